"""The shared vocabulary of the knowledge base, in English, Spanish and Arabic.

Offices and their addresses, opening days, documents, fee units and the sentence templates of
every page section, with the accepted variants of each fact (what a correct answer may say).
Arabic pages write amounts, times and counts with Arabic-Indic digits (as the city's translated
pages do); the expected facts use ASCII digits, which the evaluation's normalisation equates.
Phone numbers stay in ASCII digits in every language (residents dial them).
"""

from __future__ import annotations

import re

LANGUAGES = ("en", "es", "ar")
_EASTERN = str.maketrans("0123456789", "".join(chr(0x660 + i) for i in range(10)))


def eastern(text: str) -> str:
    """ASCII digits as Arabic-Indic digits."""
    return text.translate(_EASTERN)


_PHONE = re.compile(r"^(311|911|555-\d{4})$")


def eastern_text(text: str) -> str:
    """Arabic prose with its numbers in Arabic-Indic digits, phone numbers left as dialled."""
    return re.sub(
        r"\d+(?:[-:.]\d+)*", lambda m: m[0] if _PHONE.match(m[0]) else eastern(m[0]), text
    )


def localise(lang: str, text: str) -> str:
    """A value as the page in `lang` writes it."""
    return eastern(text) if lang == "ar" else text


# office key -> language -> (name as used in a sentence, address)
OFFICES: dict[str, dict[str, tuple[str, str]]] = {
    "utilities": {
        "en": ("Water and Utilities Customer Service", "45 Reservoir Road"),
        "es": ("Atención al Cliente de Agua y Servicios", "45 Reservoir Road"),
        "ar": ("خدمة عملاء المياه والمرافق", "45 طريق ريزيرفوار"),
    },
    "transportation": {
        "en": ("the Transportation Office", "300 Harbor Street"),
        "es": ("la Oficina de Transporte", "300 Harbor Street"),
        "ar": ("مكتب النقل", "300 شارع هاربر"),
    },
    "library": {
        "en": ("the Central Library", "50 Library Square"),
        "es": ("la Biblioteca Central", "50 Library Square"),
        "ar": ("المكتبة المركزية", "50 ساحة المكتبة"),
    },
    "treasurer": {
        "en": ("the Treasurer's Office", "100 Main Street, Room 140"),
        "es": ("la Tesorería", "100 Main Street, sala 140"),
        "ar": ("مكتب الخزينة", "100 شارع مين، الغرفة 140"),
    },
    "animals": {
        "en": ("the Animal Services Center", "310 Kennel Lane"),
        "es": ("el Centro de Servicios para Animales", "310 Kennel Lane"),
        "ar": ("مركز خدمات الحيوانات", "310 شارع كينيل"),
    },
    "parks": {
        "en": ("the Parks and Recreation Office", "75 Park Avenue"),
        "es": ("la Oficina de Parques y Recreación", "75 Park Avenue"),
        "ar": ("مكتب الحدائق والترفيه", "75 جادة بارك"),
    },
    "aging": {
        "en": ("the Department of Aging", "12 Elm Street"),
        "es": ("el Departamento de la Tercera Edad", "12 Elm Street"),
        "ar": ("إدارة شؤون المسنين", "12 شارع إلم"),
    },
    "recycling": {
        "en": ("the Recycling Drop-off Center", "900 Industrial Way"),
        "es": ("el Centro de Reciclaje", "900 Industrial Way"),
        "ar": ("مركز إعادة التدوير", "900 طريق إندستريال"),
    },
    "permits": {
        "en": ("the Permit Center", "200 Civic Plaza"),
        "es": ("el Centro de Permisos", "200 Civic Plaza"),
        "ar": ("مركز التصاريح", "200 ساحة سيفيك"),
    },
    "vital": {
        "en": ("the Office of Vital Records", "100 Main Street, Room 110"),
        "es": ("la Oficina del Registro Civil", "100 Main Street, sala 110"),
        "ar": ("مكتب السجلات المدنية", "100 شارع مين، الغرفة 110"),
    },
    "elections": {
        "en": ("the Elections Office", "100 Main Street, Room 120"),
        "es": ("la Oficina Electoral", "100 Main Street, sala 120"),
        "ar": ("مكتب الانتخابات", "100 شارع مين، الغرفة 120"),
    },
    "clerk": {
        "en": ("the City Clerk's Office", "100 Main Street, Room 100"),
        "es": ("la Secretaría Municipal", "100 Main Street, sala 100"),
        "ar": ("مكتب كاتب المدينة", "100 شارع مين، الغرفة 100"),
    },
    "pool": {
        "en": ("Riverside Pool", "20 River Road"),
        "es": ("la piscina Riverside", "20 River Road"),
        "ar": ("مسبح ريفرسايد", "20 طريق ريفر"),
    },
    "housing": {
        "en": ("the Housing Inspections Office", "400 Grant Avenue"),
        "es": ("la Oficina de Inspecciones de Vivienda", "400 Grant Avenue"),
        "ar": ("مكتب تفتيش المساكن", "400 جادة غرانت"),
    },
    "health": {
        "en": ("the Health Department", "600 Wellness Drive"),
        "es": ("el Departamento de Salud", "600 Wellness Drive"),
        "ar": ("إدارة الصحة", "600 طريق ويلنس"),
    },
}

DAYS: dict[str, dict[str, str]] = {
    "weekdays": {
        "en": "Monday to Friday",
        "es": "de lunes a viernes",
        "ar": "من الاثنين إلى الجمعة",
    },
    "tue_sat": {
        "en": "Tuesday to Saturday",
        "es": "de martes a sábado",
        "ar": "من الثلاثاء إلى السبت",
    },
    "mon_sat": {
        "en": "Monday to Saturday",
        "es": "de lunes a sábado",
        "ar": "من الاثنين إلى السبت",
    },
    "daily": {"en": "every day", "es": "todos los días", "ar": "كل يوم"},
    "saturdays": {"en": "on Saturdays", "es": "los sábados", "ar": "أيام السبت"},
    "thursdays": {"en": "on Thursdays", "es": "los jueves", "ar": "أيام الخميس"},
}

# document key -> language -> (as written on the page, accepted variants)
DOCUMENTS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "photo_id": {
        "en": ("a photo ID", ("photo ID", "photo identification", "picture ID")),
        "es": (
            "una identificación con foto",
            ("identificación con foto", "identificacion con fotografia"),
        ),
        "ar": ("بطاقة هوية بصورة", ("هوية بصورة", "بطاقة هوية")),
    },
    "proof_of_address": {
        "en": ("proof of address", ("proof of address", "proof of residence")),
        "es": ("un comprobante de domicilio", ("comprobante de domicilio", "prueba de domicilio")),
        "ar": ("إثبات العنوان", ("إثبات العنوان", "إثبات السكن")),
    },
    "account_number": {
        "en": ("your account number", ("account number",)),
        "es": ("su número de cuenta", ("número de cuenta",)),
        "ar": ("رقم حسابك", ("رقم حسابك", "رقم الحساب")),
    },
    "vehicle_registration": {
        "en": ("your vehicle registration", ("vehicle registration", "car registration")),
        "es": ("el registro de su vehículo", ("registro de su vehículo", "registro del vehículo")),
        "ar": ("تسجيل سيارتك", ("تسجيل سيارتك", "تسجيل السيارة")),
    },
    "tax_bill": {
        "en": ("your property tax bill", ("property tax bill", "tax bill")),
        "es": ("su factura del impuesto a la propiedad", ("factura del impuesto",)),
        "ar": ("فاتورة ضريبة العقار", ("فاتورة ضريبة العقار", "فاتورة الضريبة")),
    },
    "proof_of_income": {
        "en": ("proof of income", ("proof of income", "income proof")),
        "es": ("un comprobante de ingresos", ("comprobante de ingresos", "prueba de ingresos")),
        "ar": ("إثبات الدخل", ("إثبات الدخل",)),
    },
    "rabies_certificate": {
        "en": (
            "a rabies vaccination certificate",
            ("rabies vaccination certificate", "rabies certificate"),
        ),
        "es": ("el certificado de vacuna contra la rabia", ("vacuna contra la rabia",)),
        "ar": ("شهادة التطعيم ضد داء الكلب", ("داء الكلب",)),
    },
    "proof_of_age": {
        "en": ("proof of age", ("proof of age", "birth certificate")),
        "es": ("un comprobante de edad", ("comprobante de edad", "prueba de edad")),
        "ar": ("إثبات العمر", ("إثبات العمر", "إثبات السن")),
    },
    "tax_id": {
        "en": ("your federal tax ID number", ("tax ID", "EIN")),
        "es": ("su número de identificación fiscal", ("identificación fiscal",)),
        "ar": ("رقم التعريف الضريبي", ("التعريف الضريبي", "الرقم الضريبي")),
    },
    "lease": {
        "en": ("a lease or property deed", ("lease", "deed")),
        "es": (
            "un contrato de arrendamiento o una escritura",
            ("contrato de arrendamiento", "escritura"),
        ),
        "ar": ("عقد إيجار أو سند ملكية", ("عقد إيجار", "سند ملكية")),
    },
    "site_plan": {
        "en": ("a site plan", ("site plan",)),
        "es": ("un plano del terreno", ("plano del terreno", "plano")),
        "ar": ("مخطط الموقع", ("مخطط الموقع", "مخطط")),
    },
    "application_form": {
        "en": ("the completed application form", ("application form", "application")),
        "es": ("el formulario de solicitud completo", ("formulario de solicitud", "solicitud")),
        "ar": ("نموذج الطلب مكتملًا", ("نموذج الطلب",)),
    },
    "consent_form": {
        "en": ("a signed consent form", ("consent form",)),
        "es": ("un formulario de consentimiento firmado", ("formulario de consentimiento",)),
        "ar": ("نموذج موافقة موقّع", ("نموذج موافقة",)),
    },
    "event_map": {
        "en": ("a map of the event area", ("map of the event", "event map", "map")),
        "es": ("un mapa del área del evento", ("mapa del área", "mapa")),
        "ar": ("خريطة لمكان الفعالية", ("خريطة",)),
    },
    "insurance": {
        "en": ("proof of liability insurance", ("liability insurance", "insurance")),
        "es": (
            "un comprobante de seguro de responsabilidad civil",
            ("seguro de responsabilidad", "seguro"),
        ),
        "ar": ("إثبات تأمين المسؤولية", ("تأمين المسؤولية", "تأمين")),
    },
    "lease_copy": {
        "en": ("a copy of your lease", ("copy of your lease", "lease")),
        "es": ("una copia de su contrato de alquiler", ("contrato de alquiler", "contrato")),
        "ar": ("نسخة من عقد الإيجار", ("عقد الإيجار",)),
    },
    "vaccination_record": {
        "en": ("your child's vaccination record", ("vaccination record", "immunization record")),
        "es": (
            "la cartilla de vacunación de su hijo",
            ("cartilla de vacunación", "registro de vacunas"),
        ),
        "ar": ("سجل تطعيمات طفلك", ("سجل تطعيمات", "سجل التطعيم")),
    },
    "ticket_number": {
        "en": ("the ticket number", ("ticket number", "citation number")),
        "es": ("el número de la multa", ("número de la multa",)),
        "ar": ("رقم المخالفة", ("رقم المخالفة",)),
    },
}

UNITS: dict[str, dict[str, str]] = {
    "once": {"en": "", "es": "", "ar": ""},
    "year": {"en": " per year", "es": " al año", "ar": " سنويًا"},
    "ride": {"en": " per ride", "es": " por viaje", "ar": " للرحلة الواحدة"},
    "season": {"en": " per season", "es": " por temporada", "ar": " للموسم"},
    "copy": {"en": " per copy", "es": " por copia", "ar": " للنسخة الواحدة"},
    "pickup": {"en": " per pickup", "es": " por recogida", "ar": " لكل عملية جمع"},
    "day": {"en": " per day", "es": " por día", "ar": " لليوم"},
    "bag": {"en": " per bag", "es": " por bolsa", "ar": " للكيس الواحد"},
}

MONTHS = {
    1: ("January", "enero", "يناير"),
    2: ("February", "febrero", "فبراير"),
    3: ("March", "marzo", "مارس"),
    6: ("June", "junio", "يونيو"),
    8: ("August", "agosto", "أغسطس"),
    11: ("November", "noviembre", "نوفمبر"),
}
_MONTH_ALT_AR = {1: "كانون الثاني", 2: "شباط", 3: "آذار", 6: "حزيران", 8: "آب", 11: "تشرين الثاني"}

# Section headings, in page order.
HEADINGS: dict[str, dict[str, str]] = {
    "fee": {"en": "Fees", "es": "Costo", "ar": "الرسوم"},
    "documents": {
        "en": "Documents you need",
        "es": "Documentos necesarios",
        "ar": "المستندات المطلوبة",
    },
    "office": {"en": "Where to go", "es": "Dónde hacer el trámite", "ar": "مكان تقديم الطلب"},
    "hours": {"en": "Opening hours", "es": "Horario de atención", "ar": "ساعات العمل"},
    "deadline": {"en": "Deadlines and timing", "es": "Plazos", "ar": "المواعيد والمدد"},
    "phone": {"en": "Contact", "es": "Contacto", "ar": "التواصل"},
}
UPDATED = {"en": "Last updated", "es": "Última actualización", "ar": "آخر تحديث"}


def money(lang: str, amount: str) -> tuple[str, tuple[str, ...]]:
    """An amount as the page writes it, and the variants a correct answer may use."""
    plain = amount.replace(",", "")
    if lang == "en":
        return f"${amount}", (f"${amount}", f"{plain} dollars")
    if lang == "es":
        local = amount.replace(",", "#").replace(".", ",").replace("#", ".")
        return f"{local} dólares", (f"{local} dólares", f"${amount}", f"{plain} dolares")
    word = "دولارًا" if plain.isdigit() and 11 <= int(plain) <= 99 else "دولار"
    return f"{eastern(plain)} {word}", (f"{plain} دولار", f"{plain} دولارا", f"${amount}")


FREE = {
    "en": ("There is no fee for {page}: the service is free.", ("free", "no fee", "no charge")),
    "es": (
        "No se cobra ninguna tarifa por {page}: el servicio es gratuito.",
        ("gratuito", "gratis", "sin costo", "ninguna tarifa"),
    ),
    "ar": (
        "لا توجد رسوم على {page}، فالخدمة مجانية.",
        ("مجانية", "مجاني", "مجانا", "لا توجد رسوم"),
    ),
}
FEE = {
    "en": "The {label} for {page} is {fee}{unit}.",
    "es": "{label} de {page}: {fee}{unit}.",
    "ar": "{label} الخاصة ب{page}: {fee}{unit}.",
}
FEE_LABEL = {"en": "fee", "es": "Tarifa", "ar": "الرسوم"}
OFFICE = {
    "en": "You can do this in person at {office}, {address}.",
    "es": "Puede hacer este trámite en persona en {office}, {address}.",
    "ar": "يمكنك إتمام ذلك شخصيًا في {office}، {address}.",
}
HOURS = {
    "en": "{office} is open {days}, from {open} to {close}.",
    "es": "Horario de atención de {office}: {days}, de {open} a {close}.",
    "ar": "ساعات عمل {office}: {days}، من {open} إلى {close}.",
}
LINE_311 = {"en": "the 311 line", "es": "la línea 311", "ar": "خط 311"}
PHONE = {
    "en": "For questions about {page}, call {phone}.",
    "es": "Para preguntas sobre {page}, llame al {phone}.",
    "ar": "للاستفسار عن {page}، اتصل بالرقم {phone}.",
}
DOCS = {"en": "Bring {docs}.", "es": "Debe presentar {docs}.", "ar": "يجب إحضار {docs}."}
AND = {"en": " and ", "es": " y ", "ar": " و"}


def time_variants(lang: str, clock: str) -> tuple[str, ...]:
    """A 24-hour time and the ways an answer may write it."""
    hour, minute = (int(x) for x in clock.split(":"))
    variants = [clock]
    if lang == "en":
        twelve = hour % 12 or 12
        half = "am" if hour < 12 else "pm"
        short = f"{twelve}" if minute == 0 else f"{twelve}:{minute:02d}"
        variants += [f"{short} {half}", f"{twelve}:{minute:02d} {half}"]
    return tuple(dict.fromkeys(variants))


def date_value(lang: str, month: int, day: int) -> tuple[str, tuple[str, ...]]:
    """A day of the year as the page writes it, and its accepted variants."""
    en, es, ar = MONTHS[month]
    if lang == "en":
        return f"{en} {day}", (f"{en} {day}", f"{day} {en}")
    if lang == "es":
        return f"{day} de {es}", (f"{day} de {es}",)
    return f"{eastern(str(day))} {ar}", (f"{day} {ar}", f"{day} {_MONTH_ALT_AR[month]}")


_COUNT_UNITS = {
    # unit -> (en, es, ar for 3-10, ar for 11 and more)
    "days": ("days", "días", "أيام", "يومًا"),
    "business_days": ("business days", "días hábiles", "أيام عمل", "يوم عمل"),
    "hours": ("hours", "horas", "ساعات", "ساعة"),
    "years": ("years", "años", "سنوات", "سنة"),
}


def count_value(lang: str, n: int, unit: str) -> tuple[str, tuple[str, ...]]:
    """A duration ("30 days") as the page writes it, and its accepted variants."""
    en, es, few, many = _COUNT_UNITS[unit]
    if lang == "en":
        return f"{n} {en}", (f"{n} {en}",)
    if lang == "es":
        return f"{n} {es}", (f"{n} {es}",)
    word = few if n <= 10 else many
    stem = word.split(" ")[0].rstrip("ًا")
    variants = (f"{n} {word}", f"{n} {stem}", f"{n} {few}")
    return f"{eastern(str(n))} {word}", tuple(dict.fromkeys(variants))
