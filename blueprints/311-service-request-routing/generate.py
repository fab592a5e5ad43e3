"""Synthetic 311 service requests for Example City's routing pilot.

Every row is a request a resident made to the city's 311 contact centre in 2024: what they
wrote (or what the call-taker typed), the category picked from the form, the channel, where it
was, who made it, and the department that finally resolved it. Nothing here is real: names,
addresses, phone numbers (fictional 555 exchange) and e-mail addresses (reserved ``example.*``
domains) are assembled from small built-in word lists.

The data-generating process, in order (the README explains it in plain words):

1. Where and who. ``opened_date`` is spread over 2024. ``district`` (six council districts,
   unequal sizes) is drawn next; the request's ``language`` (English, Spanish, Vietnamese,
   Chinese) is drawn *given* the district, so Spanish-speaking residents are concentrated in
   Districts 4 and 5. From 16 September 2024 (the launch of the Spanish web form and app and of
   bilingual call-takers) Spanish requests are 1.8 times as frequent as before.
2. The channel (phone, web form, mobile app, e-mail, walk-in) depends on the language and the
   district: before the launch the web form and the app are in English only, so Spanish,
   Vietnamese and Chinese requests come mostly by phone through the interpreter line, where
   the call-taker types the request *in English*; Districts 5 and 6 (annexed in 2019) phone in
   more often, partly through the county's line, whose transfers carry two words.
3. The issue. One of 28 issue types, skewed (missed collections and potholes are common,
   playground repairs rare). Each type belongs to one department; a few ambiguous types (a
   tree down on the sidewalk, rats) are resolved by one of two departments.
4. The category field. On the web form and the app the resident picks a category (and
   sometimes the wrong one); on the phone the call-taker picks one, and for requests taken
   through the interpreter line the call-taker often files the catch-all "General Request" or
   leaves the field blank, because the picklist is in English and the interpreter relays a
   summary; the Spanish form (after the launch) has its own, Spanish, category list. Stray
   spaces and inconsistent capitals are kept, as exported.
5. The text. Built from phrase lists per issue type and language. The Spanish lists are
   *wider*: the same problem is written with the words of several countries ("bache",
   "hoyo", "hueco", "pozo"), and about half the Spanish requests are typed without accents
   ("esta"/"está"), so each Spanish word form is seen far less often in training than its
   English counterpart. Phone requests are short call-taker notes with abbreviations and
   typos; a few are blank; 45 % of interpreter-line notes hold only one generic word.
6. Personal data in the text. Residents write their name ("my name is ...", "me llamo ..."),
   the address ("in front of 1420 Oak St"), a phone number and an e-mail into the request.
   ``description`` keeps the text as written; ``description_redacted`` is the same text after
   the city's redaction step has replaced each of them with ``[NAME]``, ``[ADDRESS]``,
   ``[PHONE]`` or ``[EMAIL]`` (here exact, because the generator knows where it put them).
7. The label ``department`` is the department that closed the request, after any re-routing.

Usage (inside the runner container; numpy and pandas only, deterministic byte for byte)::

    python3 generate.py --out DIR [--seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 20_000
YEAR_START = np.datetime64("2024-01-01")
DAYS = 366

DISTRICTS = ("District 1", "District 2", "District 3", "District 4", "District 5", "District 6")
DISTRICT_SHARE = (0.22, 0.19, 0.18, 0.16, 0.14, 0.11)
LANGUAGES = ("English", "Spanish", "Vietnamese", "Chinese")
#: P(language | district): Spanish speakers live mostly in Districts 4 and 5, Vietnamese in 6.
LANGUAGE_GIVEN_DISTRICT = {
    "District 1": (0.93, 0.05, 0.00, 0.02),
    "District 2": (0.90, 0.06, 0.01, 0.03),
    "District 3": (0.86, 0.11, 0.02, 0.01),
    "District 4": (0.66, 0.32, 0.01, 0.01),
    "District 5": (0.58, 0.40, 0.01, 0.01),
    "District 6": (0.75, 0.12, 0.12, 0.01),
}
CHANNELS = ("phone", "web", "mobile_app", "email", "walk_in")
CHANNEL_ENGLISH = (0.34, 0.30, 0.26, 0.07, 0.03)
CHANNEL_OTHER = (0.84, 0.03, 0.02, 0.05, 0.06)  # English-only web form and app
PHONE_SHIFT_DISTRICTS = {"District 5": 0.18, "District 6": 0.22}  # extra share moved to phone

#: The Spanish web form and app (with a Spanish category list) and bilingual call-takers
#: started on this day. Before it, Spanish callers were noted in English by call-takers through
#: the interpreter line, so the training months hold little Spanish text.
SPANISH_LAUNCH = np.datetime64("2024-09-16")
SPANISH_GROWTH = 1.8
CHANNEL_SPANISH_LAUNCHED = (0.42, 0.27, 0.19, 0.07, 0.05)
CATEGORY_ES = {
    "Abandoned Vehicle": "Vehículo abandonado",
    "Blocked Driveway": "Entrada bloqueada",
    "Building": "Edificio",
    "Bulk Pickup": "Recogida de objetos grandes",
    "Garbage": "Basura",
    "General Request": "Solicitud general",
    "Housing Conditions": "Condiciones de vivienda",
    "Hydrant": "Hidrante",
    "Illegal Construction": "Construcción ilegal",
    "Illegal Dumping": "Basura tirada ilegalmente",
    "Litter": "Basura en la calle",
    "Missed Collection": "Recolección no realizada",
    "Noise": "Ruido",
    "Noise - Residential": "Ruido - residencial",
    "Noise - Street": "Ruido - calle",
    "Other": "Otro",
    "Park Maintenance": "Mantenimiento de parques",
    "Parking": "Estacionamiento",
    "Parks": "Parques",
    "Playground": "Juegos infantiles",
    "Pothole": "Baches",
    "Rodents": "Roedores",
    "Sewer": "Drenaje",
    "Sidewalk": "Aceras",
    "Street Light": "Alumbrado público",
    "Street Repair": "Reparación de calles",
    "Traffic Signal": "Semáforos",
    "Tree": "Árboles",
    "Water": "Agua",
    "Water Leak": "Fuga de agua",
    "Water Pressure": "Presión del agua",
}

#: Districts 5 and 6 (annexed in 2019) still reach 311 partly through the county's phone line,
#: whose operators transfer a request with a few words of the complaint.
TRANSFER_DISTRICTS = ("District 5", "District 6")
TRANSFER_SHARE = 0.4
#: Share of interpreter-line phone requests whose note is only the interpreter's summary.
VAGUE_INTERPRETER_NOTE = 0.45
GENERIC_ES = {
    "streets": ("la calle", "la calle", "la luz", "la acera", "el carro"),
    "sanitation": ("basura", "basura", "la calle", "el callejón"),
    "water": ("agua", "agua", "la calle", "la casa"),
    "parks": ("el parque", "un árbol", "basura", "la luz"),
    "code_enforcement": ("la casa", "el apartamento", "el dueño", "agua", "ratas"),
    "police_non_emergency": ("los vecinos", "ruido", "el carro", "la calle"),
}
GENERIC_EN = {
    "streets": ("street", "street", "light", "sidewalk", "car"),
    "sanitation": ("trash", "trash", "street", "alley"),
    "water": ("water", "water", "street", "house"),
    "parks": ("park", "tree", "trash", "light"),
    "code_enforcement": ("house", "apartment", "landlord", "water", "rats"),
    "police_non_emergency": ("neighbors", "noise", "car", "street"),
}

# -- issue types ------------------------------------------------------------------------------
# key: (department or {department: probability}, weight, categories, English phrases,
#       Spanish phrases). Spanish lists hold the words of several countries for one problem.
ISSUES: dict[str, tuple[object, float, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "pothole": (
        "streets",
        0.10,
        ("Pothole", "Street Repair"),
        (
            "pothole",
            "big pothole",
            "pot hole in the road",
            "hole in the street",
            "pothole damaging cars",
            "deep pothole in the lane",
        ),
        (
            "bache",
            "hoyo en la calle",
            "hueco en la calle",
            "pozo en el pavimento",
            "un bache grande",
            "hoyo grande en la pista",
            "hueco que daña los carros",
            "baches en la avenida",
        ),
    ),
    "streetlight": (
        "streets",
        0.06,
        ("Street Light", "Street Repair"),
        (
            "street light out",
            "streetlight not working",
            "light pole out",
            "street lamp flickering",
            "lights out on the whole block",
        ),
        (
            "la luz de la calle no funciona",
            "poste de luz apagado",
            "farol apagado",
            "lámpara de la calle prendiendo y apagando",
            "alumbrado público sin luz",
            "foco del poste fundido",
            "la cuadra está oscura, no hay luz",
        ),
    ),
    "signal": (
        "streets",
        0.035,
        ("Traffic Signal", "Street Repair"),
        (
            "traffic light stuck on red",
            "signal not working",
            "traffic signal out",
            "walk signal broken",
            "stop sign knocked down",
        ),
        (
            "semáforo descompuesto",
            "el semáforo no cambia",
            "semáforo apagado",
            "señal de pare caída",
            "la señal de alto está tirada",
            "luz de tráfico dañada",
        ),
    ),
    "sidewalk": (
        "streets",
        0.03,
        ("Sidewalk", "Street Repair"),
        ("broken sidewalk", "cracked sidewalk, trip hazard", "sidewalk lifted", "curb broken"),
        (
            "acera rota",
            "banqueta quebrada",
            "la vereda está levantada",
            "andén dañado",
            "la banqueta está rota y la gente se cae",
            "bordillo roto",
        ),
    ),
    "missed_pickup": (
        "sanitation",
        0.12,
        ("Missed Collection", "Garbage"),
        (
            "missed trash pickup",
            "garbage not collected",
            "recycling not picked up",
            "trash was not picked up this week",
            "bins not emptied",
        ),
        (
            "no recogieron la basura",
            "el camión de basura no pasó",
            "no pasaron por el reciclaje",
            "los botes de basura siguen llenos",
            "no recogieron el zafacón",
            "no se llevaron los desechos",
            "la basura lleva días sin recoger",
        ),
    ),
    "dumping": (
        "sanitation",
        0.06,
        ("Illegal Dumping", "Garbage"),
        (
            "illegal dumping",
            "someone dumped a mattress",
            "furniture dumped in the alley",
            "pile of trash dumped on the corner",
            "tires dumped",
        ),
        (
            "tiraron basura en el callejón",
            "dejaron un colchón tirado",
            "botaron muebles en la esquina",
            "montón de basura tirada",
            "tiraron llantas",
            "desechos tirados en el lote",
            "dejaron escombros en la acera",
        ),
    ),
    "bulk": (
        "sanitation",
        0.04,
        ("Bulk Pickup", "Garbage"),
        (
            "bulk item pickup",
            "need a couch picked up",
            "old fridge to collect",
            "bulky waste pickup",
        ),
        (
            "recoger un sofá viejo",
            "recogida de muebles grandes",
            "llevarse un refrigerador viejo",
            "necesito que recojan un colchón",
            "recolección de cosas grandes",
        ),
    ),
    "litter_basket": (
        "sanitation",
        0.025,
        ("Garbage", "Litter"),
        ("litter basket overflowing", "public trash can full", "corner bin overflowing"),
        (
            "el bote de la esquina está lleno",
            "zafacón público desbordado",
            "cesto de basura rebosando",
            "tacho de basura lleno",
        ),
    ),
    "water_leak": (
        "water",
        0.04,
        ("Water Leak", "Water"),
        (
            "water main break",
            "water leaking from the street",
            "water gushing from the ground",
            "leak in the water line",
        ),
        (
            "fuga de agua en la calle",
            "se rompió la tubería del agua",
            "sale agua del suelo",
            "salidero de agua",
            "tubo roto en la calle",
            "bote de agua en la acera",
        ),
    ),
    "no_water": (
        "water",
        0.025,
        ("Water", "Water Pressure"),
        (
            "no water in the building",
            "low water pressure",
            "brown water from the tap",
            "water tastes bad",
        ),
        (
            "no hay agua en la casa",
            "poca presión del agua",
            "el agua sale café",
            "sale agua sucia de la llave",
            "el agua de la pluma sale turbia",
            "la canilla no da agua",
        ),
    ),
    "sewer": (
        "water",
        0.03,
        ("Sewer", "Water"),
        (
            "sewer backup",
            "sewage smell from the drain",
            "storm drain clogged",
            "catch basin blocked",
            "manhole overflowing",
        ),
        (
            "el drenaje está tapado",
            "huele a aguas negras",
            "la alcantarilla está tapada",
            "coladera desbordada",
            "aguas negras en la calle",
            "la cloaca se regresa",
            "registro tapado",
        ),
    ),
    "hydrant": (
        "water",
        0.015,
        ("Hydrant", "Water"),
        ("fire hydrant leaking", "hydrant open", "hydrant knocked over"),
        (
            "hidrante abierto",
            "la toma de agua de bomberos está goteando",
            "hidrante tumbado",
            "boca de incendio con fuga",
        ),
    ),
    "tree_down": (
        {"parks": 0.7, "streets": 0.3},
        0.03,
        ("Tree", "Parks"),
        (
            "tree down",
            "fallen tree branch blocking the sidewalk",
            "tree fell on the street",
            "large limb down",
        ),
        (
            "se cayó un árbol",
            "rama caída en la banqueta",
            "árbol tumbado en la calle",
            "una rama grande tapa la acera",
            "palo caído bloqueando el paso",
        ),
    ),
    "tree_trim": (
        "parks",
        0.025,
        ("Tree", "Parks"),
        ("tree needs trimming", "dead tree", "branches over the power line", "tree roots"),
        (
            "hay que podar el árbol",
            "árbol seco",
            "ramas sobre los cables",
            "árbol muerto",
            "el palo está seco y se va a caer",
        ),
    ),
    "park_maint": (
        "parks",
        0.025,
        ("Park Maintenance", "Parks"),
        (
            "park restroom dirty",
            "grass not mowed in the park",
            "broken bench in the park",
            "park lights out",
            "graffiti in the park",
        ),
        (
            "el baño del parque está sucio",
            "no han cortado el zacate del parque",
            "banca rota en el parque",
            "el césped del parque está muy alto",
            "grafiti en el parque",
            "la cancha del parque está sin luz",
        ),
    ),
    "playground": (
        "parks",
        0.01,
        ("Playground", "Parks"),
        (
            "broken swing at the playground",
            "playground slide cracked",
            "playground equipment unsafe",
        ),
        (
            "columpio roto en el parque",
            "la resbaladilla está quebrada",
            "juegos infantiles dañados",
            "el tobogán está roto",
            "los juegos de los niños están peligrosos",
        ),
    ),
    "no_heat": (
        "code_enforcement",
        0.03,
        ("Housing Conditions", "Building"),
        (
            "no heat in apartment",
            "landlord won't fix the heat",
            "no hot water from the landlord",
            "heater broken for weeks",
        ),
        (
            "no hay calefacción en el apartamento",
            "el dueño no arregla la calefacción",
            "no hay agua caliente y el casero no hace nada",
            "el calentón no sirve",
            "hace frío, la calefacción no funciona",
        ),
    ),
    "mold": (
        "code_enforcement",
        0.025,
        ("Housing Conditions", "Building"),
        (
            "mold in the apartment",
            "ceiling leaking, landlord ignores",
            "black mold in bathroom",
            "unsafe stairs in building",
        ),
        (
            "hay moho en el apartamento",
            "hongo negro en el baño",
            "el techo gotea y el dueño no hace nada",
            "humedad en las paredes",
            "las escaleras del edificio están peligrosas",
        ),
    ),
    "construction": (
        "code_enforcement",
        0.015,
        ("Building", "Illegal Construction"),
        (
            "construction without a permit",
            "illegal addition being built",
            "work at night without permit",
        ),
        (
            "construcción sin permiso",
            "están construyendo sin licencia",
            "obra ilegal",
            "trabajan en la obra de noche sin permiso",
        ),
    ),
    "rats": (
        {"code_enforcement": 0.55, "sanitation": 0.45},
        0.025,
        ("Rodents", "Building", "Garbage"),
        ("rats", "rats in the building", "rodents by the trash", "mice everywhere"),
        (
            "ratas",
            "hay ratas en el edificio",
            "roedores en la basura",
            "ratones por todos lados",
            "plaga de ratas",
        ),
    ),
    "noise_music": (
        "police_non_emergency",
        0.07,
        ("Noise", "Noise - Residential"),
        (
            "loud music",
            "neighbors playing loud music all night",
            "party noise",
            "loud stereo",
            "noise from the bar next door",
        ),
        (
            "música muy alta",
            "los vecinos ponen la música a todo volumen",
            "ruido de fiesta",
            "mucho ruido toda la noche",
            "bulla de los vecinos",
            "escándalo en el bar de al lado",
        ),
    ),
    "noise_other": (
        "police_non_emergency",
        0.03,
        ("Noise", "Noise - Street"),
        (
            "car alarm going off",
            "fireworks every night",
            "barking dog all night",
            "revving engines on the street",
        ),
        (
            "alarma de carro sonando",
            "cohetes toda la noche",
            "perro ladrando toda la noche",
            "cuetes en la calle",
            "carros acelerando de noche",
        ),
    ),
    "blocked_driveway": (
        "police_non_emergency",
        0.04,
        ("Blocked Driveway", "Parking"),
        (
            "car blocking my driveway",
            "blocked driveway",
            "illegally parked car",
            "abandoned car on the block",
        ),
        (
            "un carro tapa mi entrada",
            "bloquean la cochera",
            "carro mal estacionado",
            "auto abandonado en la cuadra",
            "coche parqueado en mi salida",
        ),
    ),
    "flooding": (
        {"water": 0.6, "streets": 0.4},
        0.02,
        ("Water", "Street Repair", "Sewer"),
        ("street flooding", "flooded intersection", "water pooling in the road"),
        (
            "calle inundada",
            "se inunda la esquina",
            "charco enorme en la calle",
            "anegamiento",
            "la pista se llena de agua",
        ),
    ),
    "park_trash": (
        {"parks": 0.6, "sanitation": 0.4},
        0.015,
        ("Parks", "Litter", "Garbage"),
        ("trash all over the park", "park trash cans overflowing", "litter in the playground"),
        (
            "basura en el parque",
            "los botes del parque están llenos",
            "cochinero en el parque",
            "desperdicios en los juegos",
        ),
    ),
    "abandoned_car": (
        {"police_non_emergency": 0.6, "streets": 0.4},
        0.02,
        ("Parking", "Abandoned Vehicle"),
        ("abandoned car", "car with no plates parked for weeks", "junk car on the street"),
        (
            "carro abandonado",
            "auto sin placas hace semanas",
            "chatarra estacionada en la calle",
            "una carcacha abandonada",
        ),
    ),
    "construction_noise": (
        {"code_enforcement": 0.5, "police_non_emergency": 0.5},
        0.015,
        ("Noise", "Building"),
        (
            "construction noise early morning",
            "jackhammer at 6 am",
            "construction crew working late",
        ),
        (
            "ruido de construcción muy temprano",
            "martillan desde las 6",
            "la obra hace ruido de noche",
            "taladros toda la noche",
        ),
    ),
    "general": (
        {"streets": 0.3, "sanitation": 0.3, "water": 0.1, "parks": 0.1, "code_enforcement": 0.2},
        0.04,
        ("General Request", "Other"),
        (
            "problem on my street",
            "please send someone to look",
            "issue near my house",
            "need help with a city problem",
        ),
        (
            "problema en mi calle",
            "manden a alguien por favor",
            "hay un problema cerca de mi casa",
            "necesito ayuda con un problema",
        ),
    ),
}

# Vietnamese and Chinese: a short phrase per department; the rest comes from the category.
OTHER_LANGUAGE = {
    "Vietnamese": {
        "streets": ("ổ gà trên đường", "đèn đường bị hư", "đèn giao thông hư", "vỉa hè bị vỡ"),
        "sanitation": ("rác không được thu gom", "có người đổ rác", "thùng rác đầy"),
        "water": ("ống nước bị vỡ", "không có nước", "cống bị nghẹt"),
        "parks": ("cây bị đổ", "công viên bẩn", "cần cắt tỉa cây"),
        "code_enforcement": ("nhà bị mốc", "không có sưởi", "có chuột trong nhà"),
        "police_non_emergency": ("hàng xóm mở nhạc lớn", "xe chắn lối vào", "ồn ào ban đêm"),
    },
    "Chinese": {
        "streets": ("路上有坑", "路灯坏了", "红绿灯坏了", "人行道破了"),
        "sanitation": ("垃圾没有收", "有人乱倒垃圾", "垃圾桶满了"),
        "water": ("水管破了", "没有水", "下水道堵了"),
        "parks": ("树倒了", "公园很脏", "树需要修剪"),
        "code_enforcement": ("房子发霉", "没有暖气", "家里有老鼠"),
        "police_non_emergency": ("邻居音乐太吵", "车挡住车道", "晚上很吵"),
    },
}

WHERE_EN = (
    "on my street",
    "near the school",
    "in front of my building",
    "on the corner",
    "by the bus stop",
    "in the alley",
    "on our block",
    "across from the church",
)
WHERE_ES = (
    "en mi calle",
    "cerca de la escuela",
    "enfrente de mi edificio",
    "en la esquina",
    "por la parada del bus",
    "en el callejón",
    "en nuestra cuadra",
    "frente a la iglesia",
)
WHEN_EN = ("for two weeks", "since Monday", "again", "for a month now", "since last night", "")
WHEN_ES = (
    "desde hace dos semanas",
    "desde el lunes",
    "otra vez",
    "hace un mes",
    "desde anoche",
    "",
)
ASK_EN = (
    "Please fix it.",
    "Please send someone.",
    "This is dangerous.",
    "Thank you.",
    "Third time I report this.",
    "",
)
ASK_ES = (
    "Por favor arréglenlo.",
    "Manden a alguien por favor.",
    "Es peligroso.",
    "Gracias.",
    "Es la tercera vez que llamo.",
    "",
)

FIRST_EN = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Susan",
    "Keisha",
    "Andre",
    "Emily",
    "Tyrone",
    "Sarah",
    "Kevin",
)
FIRST_ES = (
    "María",
    "José",
    "Guadalupe",
    "Juan",
    "Rosa",
    "Luis",
    "Carmen",
    "Jorge",
    "Ana",
    "Miguel",
    "Lucía",
    "Alejandro",
    "Sofía",
    "Ramón",
)
FIRST_VI = ("Minh", "Lan", "Huong", "Tuan", "Thao", "Duc")
FIRST_ZH = ("Wei", "Mei", "Jun", "Li", "Xiu", "Hao")
LAST_EN = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "Okafor",
    "Murphy",
)
LAST_ES = (
    "García",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
)
LAST_VI = ("Nguyen", "Tran", "Le", "Pham", "Hoang")
LAST_ZH = ("Wang", "Chen", "Zhang", "Liu", "Huang")
STREETS = (
    "Oak St",
    "Maple Ave",
    "Lincoln Blvd",
    "Cedar St",
    "Pine St",
    "Washington Ave",
    "Elm St",
    "Harbor Rd",
    "Mill Creek Rd",
    "Park Pl",
    "Sunset Dr",
    "Lake St",
    "W 34th St",
    "E 12th St",
    "Chestnut Ln",
    "Riverside Dr",
    "Jefferson St",
    "Grove Ave",
)
DOMAINS = ("example.com", "example.org", "example.net")
DISTRICT_STREETS = {d: STREETS[i * 3 : i * 3 + 3] for i, d in enumerate(DISTRICTS)}

INTRO_EN = (
    ("My name is {f} {l}.", "My name is [NAME]."),
    ("Hi, my name is {f}.", "Hi, my name is [NAME]."),
    ("This is Mrs. {l}.", "This is Mrs. [NAME]."),
    ("Mr. {l} here.", "Mr. [NAME] here."),
)
INTRO_ES = (
    ("Me llamo {f} {l}.", "Me llamo [NAME]."),
    ("Mi nombre es {f}.", "Mi nombre es [NAME]."),
    ("Soy la Sra. {l}.", "Soy la Sra. [NAME]."),
    ("Habla el Sr. {l}.", "Habla el Sr. [NAME]."),
)
ACCENTS = str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN")
ABBREVIATIONS = (
    ("street", "st"),
    ("please", "pls"),
    ("building", "bldg"),
    ("apartment", "apt"),
    ("reports", "rpts"),
    (" and ", " & "),
)


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return str(options[int(rng.integers(len(options)))])


def _zipf(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """The first option most often, later ones ever more rarely (regional words)."""
    weights = 1.0 / np.arange(1, len(options) + 1) ** 0.7
    return str(options[int(rng.choice(len(options), p=weights / weights.sum()))])


def _department(rng: np.random.Generator, owner: object) -> str:
    if isinstance(owner, str):
        return owner
    names = list(owner)  # type: ignore[call-overload]
    probs = np.array([owner[n] for n in names], dtype=float)  # type: ignore[index]
    return names[int(rng.choice(len(names), p=probs / probs.sum()))]


def _person(rng: np.random.Generator, language: str) -> tuple[str, str]:
    first, last = {
        "English": (FIRST_EN, LAST_EN),
        "Spanish": (FIRST_ES, LAST_ES),
        "Vietnamese": (FIRST_VI, LAST_VI),
        "Chinese": (FIRST_ZH, LAST_ZH),
    }[language]
    return _pick(rng, first), _pick(rng, last)


def _phone(rng: np.random.Generator) -> str:
    a, b = int(rng.integers(200, 1000)), int(rng.integers(0, 10000))
    style = int(rng.integers(4))
    return (
        f"555-{a:03d}-{b:04d}",
        f"(555) {a:03d}-{b:04d}",
        f"555.{a:03d}.{b:04d}",
        f"555 {a:03d} {b:04d}",
    )[style]


def _email(first: str, last: str, rng: np.random.Generator) -> str:
    local = (first + "." + last).lower().translate(ACCENTS)
    if rng.random() < 0.4:
        local = local.replace(".", "") + str(int(rng.integers(1, 99)))
    return f"{local}@{_pick(rng, DOMAINS)}"


def _typo(rng: np.random.Generator, text: str) -> str:
    """Drop one letter from a few words, as in hurried call-taker notes."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and not word.startswith("[") and rng.random() < 0.12:
            cut = int(rng.integers(1, len(word) - 1))
            words[i] = word[:cut] + word[cut + 1 :]
    return " ".join(words)


def _request_text(
    rng: np.random.Generator,
    *,
    issue: str,
    department: str,
    language: str,
    channel: str,
    street: str,
    number: int,
    person: tuple[str, str],
    transfer: bool,
    launched: bool,
) -> tuple[str, str]:
    """The request as written, and as redacted: both joined from the same pieces."""
    pieces: list[tuple[str, str]] = []  # (as written, as redacted); equal unless personal data

    def add(text: str, redacted: str | None = None) -> None:
        pieces.append((text, text if redacted is None else redacted))

    first, last = person
    address = f"{number} {street}"
    # Before the launch, a Spanish caller's request was typed in English by the call-taker.
    interpreted = (
        channel == "phone" and language != "English" and not (language == "Spanish" and launched)
    )
    vague = interpreted and rng.random() < VAGUE_INTERPRETER_NOTE
    if language in OTHER_LANGUAGE and not vague:  # written by the resident
        phrase = _pick(rng, OTHER_LANGUAGE[language][department])
        if rng.random() < 0.25:  # a word of English the resident knows
            phrase = f"{phrase} ({_pick(rng, ISSUES[issue][3])})"
        add(phrase)
        if rng.random() < 0.5:
            add(address, "[ADDRESS]")
        if rng.random() < 0.2:
            add(_phone(rng), "[PHONE]")
        return " ".join(p[0] for p in pieces), " ".join(p[1] for p in pieces)

    spanish = language == "Spanish" and not interpreted
    if vague:
        # The interpreter line relayed a summary the call-taker could not place: one generic
        # word of the caller's, which several departments share.
        word = _pick(rng, (GENERIC_ES if spanish else GENERIC_EN)[department])
        lang = language.lower()
        lead = _pick(
            rng,
            (
                f"{lang} speaker via language line,",
                f"{language} caller (interp),",
                f"caller {lang} only -",
                "via interpreter:",
            ),
        )
        add(f"{lead} problema con {word}" if spanish else f"{lead} problem w/ {word}")
        if rng.random() < 0.3:
            add("en el " + address, "en el [ADDRESS]")
        return " ".join(p[0] for p in pieces), " ".join(p[1] for p in pieces)
    if channel == "phone" and transfer and rng.random() < TRANSFER_SHARE:
        # Transferred from the county line: a few words of the complaint, nothing more.
        core = _pick(rng, ISSUES[issue][4] if spanish else ISSUES[issue][3])
        words = core.split(" ")
        start = int(rng.integers(len(words)))
        add("xfer county: " + " ".join(words[start : start + 2]))
        return " ".join(p[0] for p in pieces), " ".join(p[1] for p in pieces)
    core = _zipf(rng, ISSUES[issue][4]) if spanish else _pick(rng, ISSUES[issue][3])
    note = channel == "phone"
    if note:
        # The call-taker's note, in the caller's words as the interpreter relays them.
        add(("Llamante reporta " if spanish else "Caller reports ") + core)
    else:
        if rng.random() < 0.2:
            intros = INTRO_ES if spanish else INTRO_EN
            raw, red = intros[int(rng.integers(len(intros)))]
            add(raw.format(f=first, l=last), red)
        add(core[0].upper() + core[1:])
    if rng.random() < 0.35:
        if spanish and rng.random() < 0.4:
            name = street.split(" ")[1] if street[0] in "WE" else street.split(" ")[0]
            add(f"en la calle {name} {number}", "en la calle [ADDRESS]")
        else:
            lead = "en el " if spanish else "at "
            add(lead + address, lead + "[ADDRESS]")
    else:
        add(_pick(rng, WHERE_ES if spanish else WHERE_EN))
    when = _pick(rng, WHEN_ES if spanish else WHEN_EN)
    if when:
        add(when)
    if not note:
        pieces[-1] = (pieces[-1][0] + ".", pieces[-1][1] + ".")
    if not note:
        ask = _pick(rng, ASK_ES if spanish else ASK_EN)
        if ask:
            add(ask)
    if rng.random() < (0.12 if note else 0.1):
        lead = "Mi número es " if spanish else "Call me at "
        add(lead + _phone(rng), lead + "[PHONE]")
    if channel in ("email", "web") and rng.random() < 0.15:
        lead = "Correo: " if spanish else "Email me: "
        add(lead + _email(first, last, rng), lead + "[EMAIL]")
    if note and rng.random() < 0.2:
        extras = ("Caller wants callback.", "Transferred from 911.")
        add(_pick(rng, extras if language == "English" else (*extras, "Interpreter line used.")))
    if note:
        # Hurried notes: lower case, abbreviations, typos; personal data is typed with care.
        pieces = [
            (text, red) if text != red else (_note(rng, text, english=not spanish),) * 2
            for text, red in pieces
        ]
    text = " ".join(p[0] for p in pieces)
    redacted = " ".join(p[1] for p in pieces)
    if spanish and rng.random() < 0.5:  # typed without accents
        text, redacted = text.translate(ACCENTS), redacted.translate(ACCENTS)
    elif not note and rng.random() < 0.04:  # CAPS LOCK
        text, redacted = text.upper(), redacted.upper()
    return text, redacted


def _note(rng: np.random.Generator, text: str, *, english: bool) -> str:
    text = text.lower()
    if english:
        for long, short in ABBREVIATIONS:
            text = text.replace(long, short)
    return _typo(rng, text)


def _category(
    rng: np.random.Generator, issue: str, language: str, channel: str, *, launched: bool
) -> str:
    """The category field as filed: often a catch-all for interpreter-line requests."""
    value = _category_in_english(rng, issue, language, channel, launched=launched)
    if language == "Spanish" and launched and channel in ("web", "mobile_app"):
        return CATEGORY_ES.get(value.strip().title().replace(" - ", " - "), value)
    return value


def _category_in_english(
    rng: np.random.Generator, issue: str, language: str, channel: str, *, launched: bool
) -> str:
    choices = ISSUES[issue][2]
    interpreter = (
        language != "English"
        and channel in ("phone", "walk_in")
        and not (language == "Spanish" and launched)
    )
    catch_all = (
        0.45 if interpreter else (0.12 if channel in ("phone", "walk_in", "email") else 0.05)
    )
    u = rng.random()
    if u < catch_all:
        return _pick(rng, ("General Request", "General Request", "Other", ""))
    if u < catch_all + 0.08:  # the wrong category, picked from the list
        other = _pick(rng, list(ISSUES))
        return _pick(rng, ISSUES[other][2])
    value = _pick(rng, choices)
    v = rng.random()
    if v < 0.05:
        value = value.upper()
    elif v < 0.1:
        value = value.lower()
    elif v < 0.16:
        value = value + " "
    return value


def generate(seed: int = 0, rows: int = ROWS) -> pd.DataFrame:
    """Return the synthetic requests, one per row, in the order they were opened."""
    rng = np.random.default_rng(seed)
    issue_names = list(ISSUES)
    issue_weights = np.array([ISSUES[k][1] for k in issue_names])
    issue_weights = issue_weights / issue_weights.sum()

    opened = YEAR_START + np.sort(rng.integers(0, DAYS, rows)).astype("timedelta64[D]")
    district = rng.choice(len(DISTRICTS), size=rows, p=DISTRICT_SHARE)
    records = []
    for i in range(rows):
        d = DISTRICTS[district[i]]
        launched = bool(opened[i] >= SPANISH_LAUNCH)
        shares = np.array(LANGUAGE_GIVEN_DISTRICT[d])
        if launched:  # the Spanish form brought residents who had not reported before
            shares[1] *= SPANISH_GROWTH
        language = LANGUAGES[int(rng.choice(4, p=shares / shares.sum()))]
        if language == "English":
            probs = np.array(CHANNEL_ENGLISH)
        elif language == "Spanish" and launched:
            probs = np.array(CHANNEL_SPANISH_LAUNCHED)
        else:
            probs = np.array(CHANNEL_OTHER)
        shift = PHONE_SHIFT_DISTRICTS.get(d, 0.0)
        probs = probs * (1 - shift)
        probs[0] += shift
        channel = CHANNELS[int(rng.choice(len(CHANNELS), p=probs))]
        issue = issue_names[int(rng.choice(len(issue_names), p=issue_weights))]
        department = _department(rng, ISSUES[issue][0])
        person = _person(rng, language)
        street = _pick(rng, DISTRICT_STREETS[d])
        number = int(rng.integers(1, 4000))
        text, redacted = _request_text(
            rng,
            issue=issue,
            department=department,
            language=language,
            channel=channel,
            street=street,
            number=number,
            person=person,
            transfer=d in TRANSFER_DISTRICTS,
            launched=launched,
        )
        if channel == "phone" and rng.random() < 0.02:  # no notes typed
            text = redacted = ""
        elif rng.random() < 0.03:  # stray spaces from the export
            text, redacted = "  " + text, "  " + redacted
        anonymous = rng.random() < 0.35
        records.append(
            {
                "request_id": f"SR-24-{i + 1:06d}",
                "opened_date": str(opened[i]),
                "district": d,
                "language": language,
                "channel": channel,
                "category": _category(rng, issue, language, channel, launched=launched),
                "description": text,
                "description_redacted": redacted,
                "incident_address": "" if rng.random() < 0.04 else f"{number} {street}",
                "reporter_name": "" if anonymous else f"{person[0]} {person[1]}",
                "reporter_phone": "" if anonymous or rng.random() < 0.3 else _phone(rng),
                "reporter_email": (
                    _email(*person, rng)
                    if not anonymous
                    and channel in ("web", "mobile_app", "email")
                    and rng.random() < 0.7
                    else ""
                ),
                "department": department,
            }
        )
    return pd.DataFrame.from_records(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write requests.csv to")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    frame = generate(args.seed)
    frame.to_csv(args.out / "requests.csv", index=False, lineterminator="\n", encoding="utf-8")


if __name__ == "__main__":
    main()
