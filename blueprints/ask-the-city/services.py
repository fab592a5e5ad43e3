"""The city services the knowledge base describes: 25 services, their facts and their words.

Each service has a page per language: a title, an introduction, and the sections its facts
fill (fee, documents, office, opening hours, deadline, phone), written with the templates of
`wording.py`. `names` are the ways residents refer to the service in questions (the page uses
the first words of `page`; questions use `names`, so retrieval has to bridge paraphrases).
`SPANISH_MISSING` and `SPANISH_OUTDATED` describe how the Spanish pages lag the English ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deadline:
    """A timing fact: `value` is ("date", month, day), ("count", n, unit) or ("time", "6:00");
    `text` holds the page sentence per language with `{v}` where the value goes."""

    kind: str  # due, takes, ahead, valid, by_time, quiet, season_end, season_start
    value: tuple[object, ...]
    text: dict[str, str]


@dataclass(frozen=True)
class Service:
    key: str
    title: dict[str, str]
    page: dict[str, str]
    names: dict[str, tuple[str, ...]]
    intro: dict[str, str]
    phone: str
    fee: tuple[str, str] | str | None = None  # (amount, unit key), "free" or None
    fee_label: dict[str, str] | None = None
    fee_sentence: dict[str, str] | None = None
    fee_questions: dict[str, tuple[str, ...]] | None = None
    office: str | None = None
    hours: tuple[str, str, str] | None = None  # (days key, open, close)
    documents: tuple[str, ...] = ()
    deadline: Deadline | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _t(en: str, es: str, ar: str) -> dict[str, str]:
    return {"en": en, "es": es, "ar": ar}


def _n(en: tuple[str, ...], es: tuple[str, ...], ar: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {"en": en, "es": es, "ar": ar}


_FIRST: tuple[Service, ...] = (
    Service(
        key="water-bills",
        title=_t("Water bills", "Facturas de agua", "فواتير المياه"),
        page=_t("water bills", "las facturas de agua", "فواتير المياه"),
        names=_n(
            ("my water bill", "a water bill", "paying the water bill", "the water and sewer bill"),
            ("la factura del agua", "el recibo del agua", "pagar el agua"),
            ("فاتورة المياه", "دفع فاتورة الماء", "فاتورة الماء"),
        ),
        intro=_t(
            "Water and sewer bills are sent every two months. You can pay online, by mail, by "
            "phone or in person, and set up automatic payments.",
            "Las facturas de agua y alcantarillado se envían cada dos meses. Puede pagar en "
            "línea, por correo, por teléfono o en persona, y programar pagos automáticos.",
            "تُرسل فواتير المياه والصرف الصحي كل شهرين. يمكنك الدفع عبر الإنترنت أو بالبريد أو "
            "بالهاتف أو شخصيًا، كما يمكنك إعداد الدفع التلقائي.",
        ),
        phone="555-0120",
        fee=("15", "once"),
        fee_label=_t("late fee", "Recargo por pago atrasado", "غرامة التأخير"),
        office="utilities",
        hours=("weekdays", "8:00", "17:00"),
        documents=("account_number",),
        deadline=Deadline(
            "due",
            ("count", 21, "days"),
            _t(
                "Each bill is due {v} after the bill date; after that the late fee is added.",
                "Cada factura vence {v} después de la fecha de emisión; después se cobra el "
                "recargo.",
                "تستحق كل فاتورة خلال {v} من تاريخ إصدارها، وبعد ذلك تُضاف غرامة التأخير.",
            ),
        ),
    ),
    Service(
        key="bulk-trash-pickup",
        title=_t("Bulk trash pickup", "Recogida de objetos grandes", "جمع النفايات الكبيرة"),
        page=_t("bulk trash pickup", "la recogida de objetos grandes", "جمع النفايات الكبيرة"),
        names=_n(
            (
                "bulk item collection",
                "picking up an old couch",
                "large item pickup",
                "getting rid of a mattress",
            ),
            (
                "la recolección de muebles viejos",
                "la recogida de basura voluminosa",
                "que se lleven un colchón",
            ),
            ("جمع الأثاث القديم", "التخلص من فرشة قديمة", "رفع الأغراض الكبيرة"),
        ),
        intro=_t(
            "Sofas, mattresses, appliances and other items too large for your cart are "
            "collected from the curb on Wednesdays by appointment. Up to five items per pickup.",
            "Los sofás, colchones, electrodomésticos y otros objetos que no caben en el bote se "
            "recogen en la acera los miércoles, con cita previa. Hasta cinco objetos por "
            "recogida.",
            "تُجمع الأرائك والفرش والأجهزة المنزلية وغيرها من الأغراض التي لا تتسع لها الحاوية "
            "من أمام المنزل يوم الأربعاء بموعد مسبق، بحد أقصى خمس قطع في كل مرة.",
        ),
        phone="311",
        fee=("35", "pickup"),
        deadline=Deadline(
            "ahead",
            ("count", 3, "days"),
            _t(
                "Book at least {v} before the pickup day by calling 311 or online.",
                "Reserve al menos con {v} de anticipación llamando al 311 o en línea.",
                "احجز الموعد قبل {v} على الأقل بالاتصال بالرقم 311 أو عبر الإنترنت.",
            ),
        ),
    ),
    Service(
        key="parking-permits",
        title=_t(
            "Residential parking permits",
            "Permisos de estacionamiento residencial",
            "تصاريح الوقوف للسكان",
        ),
        page=_t(
            "a residential parking permit",
            "el permiso de estacionamiento residencial",
            "تصريح الوقوف للسكان",
        ),
        names=_n(
            ("a parking permit", "a resident parking sticker", "permit parking for my street"),
            (
                "el permiso para estacionar",
                "la calcomanía de estacionamiento",
                "el permiso de parqueo",
            ),
            ("تصريح الوقوف", "ملصق ركن السيارة للسكان", "تصريح ركن السيارة"),
        ),
        intro=_t(
            "Residents of permit parking zones can park on their street without time limits. "
            "One permit per registered vehicle.",
            "Los residentes de las zonas de estacionamiento con permiso pueden estacionarse en "
            "su calle sin límite de tiempo. Un permiso por vehículo registrado.",
            "يمكن لسكان مناطق الوقوف بتصريح ركن سياراتهم في شارعهم دون حد زمني، بتصريح واحد "
            "لكل سيارة مسجلة.",
        ),
        phone="555-0145",
        fee=("40", "year"),
        office="transportation",
        hours=("weekdays", "8:30", "16:30"),
        documents=("vehicle_registration", "proof_of_address"),
        deadline=Deadline(
            "due",
            ("date", 6, 30),
            _t(
                "Permits expire every year on {v}; renew before that date.",
                "Los permisos vencen cada año el {v}; renuévelo antes de esa fecha.",
                "تنتهي صلاحية التصاريح كل عام في {v}، فجدّده قبل هذا التاريخ.",
            ),
        ),
    ),
    Service(
        key="library-cards",
        title=_t("Library cards", "Tarjetas de la biblioteca", "بطاقات المكتبة"),
        page=_t("a library card", "la tarjeta de la biblioteca", "بطاقة المكتبة"),
        names=_n(
            ("a library card", "getting a card at the library", "borrowing books"),
            (
                "la credencial de la biblioteca",
                "sacar la tarjeta de biblioteca",
                "pedir libros prestados",
            ),
            ("بطاقة المكتبة العامة", "استعارة الكتب", "اشتراك المكتبة"),
        ),
        intro=_t(
            "A library card lets you borrow books, films and laptops and use the computers at "
            "every branch. Children under 13 need a parent or guardian to sign.",
            "Con la tarjeta de la biblioteca puede pedir prestados libros, películas y "
            "computadoras portátiles, y usar las computadoras de todas las sucursales. Los "
            "menores de 13 años necesitan la firma de un padre o tutor.",
            "تتيح لك بطاقة المكتبة استعارة الكتب والأفلام والحواسيب المحمولة واستخدام الحواسيب "
            "في جميع الفروع. يحتاج الأطفال دون 13 عامًا إلى توقيع أحد الوالدين أو الوصي.",
        ),
        phone="555-0150",
        fee="free",
        office="library",
        hours=("mon_sat", "9:00", "20:00"),
        documents=("photo_id", "proof_of_address"),
        deadline=Deadline(
            "valid",
            ("count", 3, "years"),
            _t(
                "A card is valid for {v}; renew it at any branch.",
                "La tarjeta es válida por {v}; renuévela en cualquier sucursal.",
                "البطاقة صالحة لمدة {v}، ويمكن تجديدها في أي فرع.",
            ),
        ),
    ),
    Service(
        key="property-tax-payment-plans",
        title=_t(
            "Property tax payment plans",
            "Planes de pago del impuesto a la propiedad",
            "خطط تقسيط ضريبة العقار",
        ),
        page=_t(
            "a property tax payment plan",
            "un plan de pago del impuesto a la propiedad",
            "خطة تقسيط ضريبة العقار",
        ),
        names=_n(
            (
                "a payment plan for property taxes",
                "paying my property tax in installments",
                "a property tax installment plan",
            ),
            (
                "pagar el impuesto predial en cuotas",
                "un plan de pagos del impuesto predial",
                "pagar los impuestos de la casa a plazos",
            ),
            ("تقسيط ضريبة العقار", "خطة دفع ضريبة الأملاك", "دفع ضريبة المنزل على أقساط"),
        ),
        intro=_t(
            "Homeowners who cannot pay their property tax bill at once can split it into up to "
            "ten monthly payments, with no interest if every payment is on time.",
            "Los propietarios que no pueden pagar la factura del impuesto a la propiedad de una "
            "sola vez pueden dividirla en hasta diez pagos mensuales, sin intereses si cada pago "
            "llega a tiempo.",
            "يمكن لأصحاب المنازل الذين لا يستطيعون دفع فاتورة ضريبة العقار دفعة واحدة تقسيمها "
            "على عشر دفعات شهرية كحد أقصى، دون فوائد إذا سُددت كل دفعة في موعدها.",
        ),
        phone="555-0140",
        fee=("10", "once"),
        fee_label=_t("setup fee", "Cargo de inscripción", "رسوم التسجيل"),
        office="treasurer",
        hours=("weekdays", "8:00", "16:30"),
        documents=("tax_bill", "proof_of_income"),
        deadline=Deadline(
            "due",
            ("date", 3, 1),
            _t(
                "Apply by {v} to spread this year's bill.",
                "Solicítelo antes del {v} para dividir la factura de este año.",
                "قدّم طلبك قبل {v} لتقسيط فاتورة هذا العام.",
            ),
        ),
    ),
    Service(
        key="pothole-reports",
        title=_t("Reporting a pothole", "Reportar un bache", "الإبلاغ عن حفرة في الطريق"),
        page=_t("pothole reports", "los reportes de baches", "بلاغات الحفر"),
        names=_n(
            ("reporting a pothole", "a hole in the road", "a pothole on my street"),
            ("reportar un bache", "un hoyo en la calle", "un bache en mi calle"),
            ("الإبلاغ عن حفرة", "حفرة في الشارع", "حفرة في الطريق أمام بيتي"),
        ),
        intro=_t(
            "Report potholes on city streets through 311, online or with the city app. Give the "
            "nearest address or intersection and, if you can, a photo.",
            "Reporte los baches de las calles de la ciudad al 311, en línea o con la aplicación "
            "de la ciudad. Indique la dirección o la intersección más cercana y, si puede, una "
            "foto.",
            "أبلغ عن الحفر في شوارع المدينة عبر الرقم 311 أو عبر الإنترنت أو تطبيق المدينة، مع "
            "ذكر أقرب عنوان أو تقاطع وإرفاق صورة إن أمكن.",
        ),
        phone="311",
        fee="free",
        hours=("daily", "7:00", "22:00"),
        deadline=Deadline(
            "takes",
            ("count", 5, "business_days"),
            _t(
                "Crews repair most potholes within {v} of the report.",
                "Las cuadrillas reparan la mayoría de los baches en un plazo de {v} después del "
                "reporte.",
                "تصلح الفرق معظم الحفر خلال {v} من تاريخ البلاغ.",
            ),
        ),
    ),
    Service(
        key="pet-licences",
        title=_t("Pet licences", "Licencias para mascotas", "تراخيص الحيوانات الأليفة"),
        page=_t("a pet licence", "la licencia para mascotas", "ترخيص الحيوانات الأليفة"),
        names=_n(
            ("a dog licence", "a dog license", "a cat licence", "licensing my dog"),
            ("la licencia para perros", "registrar a mi perro", "la placa para el gato"),
            ("ترخيص الكلب", "تسجيل قطتي", "رخصة الكلب"),
        ),
        intro=_t(
            "Every dog and cat older than four months must have a city licence and wear its "
            "tag. The licence helps return lost pets to their owners.",
            "Todos los perros y gatos de más de cuatro meses deben tener una licencia de la "
            "ciudad y llevar su placa. La licencia ayuda a devolver las mascotas perdidas a sus "
            "dueños.",
            "يجب أن يحصل كل كلب وقطة يزيد عمره على أربعة أشهر على ترخيص من المدينة وأن يحمل "
            "قلادته، فالترخيص يساعد على إعادة الحيوانات الضائعة إلى أصحابها.",
        ),
        phone="555-0134",
        fee=("25", "year"),
        office="animals",
        hours=("tue_sat", "10:00", "18:00"),
        documents=("rabies_certificate", "proof_of_address"),
        deadline=Deadline(
            "due",
            ("count", 30, "days"),
            _t(
                "License a new pet within {v} of adopting it or moving to the city.",
                "Obtenga la licencia de una mascota nueva dentro de los {v} siguientes a la "
                "adopción o a su llegada a la ciudad.",
                "رخّص الحيوان الجديد خلال {v} من تبنيه أو انتقالك إلى المدينة.",
            ),
        ),
    ),
    Service(
        key="youth-sports",
        title=_t("Youth sports leagues", "Ligas deportivas juveniles", "الدوريات الرياضية للشباب"),
        page=_t(
            "youth sports registration",
            "la inscripción en deportes juveniles",
            "التسجيل في رياضات الشباب",
        ),
        names=_n(
            (
                "signing my kid up for soccer",
                "youth basketball registration",
                "kids' sports leagues",
            ),
            (
                "inscribir a mi hijo en fútbol",
                "las ligas de deportes para niños",
                "la inscripción de básquetbol juvenil",
            ),
            ("تسجيل ابني في كرة القدم", "دوري كرة السلة للأطفال", "الرياضة للأطفال"),
        ),
        intro=_t(
            "Soccer, basketball and baseball leagues for children aged 6 to 14, with games on "
            "Saturdays at city parks. Scholarships cover the fee for families who qualify.",
            "Ligas de fútbol, básquetbol y béisbol para niños de 6 a 14 años, con partidos los "
            "sábados en los parques de la ciudad. Hay becas que cubren la tarifa para las "
            "familias que califican.",
            "دوريات كرة القدم وكرة السلة والبيسبول للأطفال من 6 إلى 14 عامًا، تقام مبارياتها "
            "أيام السبت في حدائق المدينة، وتغطي المنح الرسوم للعائلات المؤهلة.",
        ),
        phone="555-0175",
        fee=("60", "season"),
        office="parks",
        hours=("weekdays", "9:00", "17:00"),
        documents=("proof_of_age",),
        deadline=Deadline(
            "due",
            ("date", 8, 15),
            _t(
                "Registration for the fall season closes on {v}.",
                "La inscripción para la temporada de otoño cierra el {v}.",
                "يُغلق باب التسجيل لموسم الخريف في {v}.",
            ),
        ),
    ),
    Service(
        key="senior-transport",
        title=_t("Senior transport", "Transporte para personas mayores", "نقل كبار السن"),
        page=_t(
            "senior transport rides", "el transporte para personas mayores", "رحلات نقل كبار السن"
        ),
        names=_n(
            (
                "a ride for seniors",
                "senior van rides",
                "transportation for older adults",
                "the senior shuttle",
            ),
            (
                "el transporte para adultos mayores",
                "los viajes en camioneta para mayores",
                "el servicio de traslado para ancianos",
            ),
            ("توصيل كبار السن", "حافلة كبار السن", "مواصلات المسنين"),
        ),
        intro=_t(
            "Door-to-door van rides for residents aged 65 and older to medical appointments, "
            "grocery stores and senior centers within city limits.",
            "Viajes en camioneta de puerta a puerta para residentes de 65 años o más a citas "
            "médicas, supermercados y centros para personas mayores dentro de la ciudad.",
            "رحلات بالحافلة من الباب إلى الباب للسكان الذين تبلغ أعمارهم 65 عامًا فأكثر إلى "
            "المواعيد الطبية ومحلات البقالة ومراكز كبار السن داخل حدود المدينة.",
        ),
        phone="555-0165",
        fee=("2.50", "ride"),
        office="aging",
        hours=("weekdays", "7:00", "18:00"),
        documents=("proof_of_age",),
        deadline=Deadline(
            "ahead",
            ("count", 48, "hours"),
            _t(
                "Book each ride at least {v} ahead.",
                "Reserve cada viaje con al menos {v} de anticipación.",
                "احجز كل رحلة قبل {v} على الأقل.",
            ),
        ),
    ),
    Service(
        key="recycling",
        title=_t("Recycling", "Reciclaje", "إعادة التدوير"),
        page=_t("recycling", "el reciclaje", "إعادة التدوير"),
        names=_n(
            ("recycling pickup", "the blue recycling cart", "recycling collection"),
            ("la recolección de reciclaje", "el bote azul de reciclaje", "reciclar"),
            ("جمع المواد القابلة لإعادة التدوير", "الحاوية الزرقاء", "التدوير"),
        ),
        intro=_t(
            "Paper, cardboard, cans and plastic bottles go in the blue cart, collected every "
            "other week on your trash day. Glass and electronics go to the Recycling Drop-off "
            "Center.",
            "El papel, el cartón, las latas y las botellas de plástico van en el bote azul, que "
            "se recoge cada dos semanas el día de la basura. El vidrio y los aparatos "
            "electrónicos se llevan al Centro de Reciclaje.",
            "توضع الأوراق والكرتون والعلب والزجاجات البلاستيكية في الحاوية الزرقاء التي تُجمع كل "
            "أسبوعين في يوم جمع النفايات، أما الزجاج والأجهزة الإلكترونية فتُنقل إلى مركز إعادة "
            "التدوير.",
        ),
        phone="311",
        fee="free",
        office="recycling",
        hours=("saturdays", "8:00", "14:00"),
        deadline=Deadline(
            "by_time",
            ("time", "6:00"),
            _t(
                "Put the cart at the curb by {v} on collection day.",
                "Saque el bote a la acera antes de las {v} del día de recolección.",
                "ضع الحاوية على الرصيف قبل الساعة {v} من يوم الجمع.",
            ),
        ),
    ),
    Service(
        key="noise-complaints",
        title=_t("Noise complaints", "Quejas por ruido", "شكاوى الضوضاء"),
        page=_t("noise complaints", "las quejas por ruido", "شكاوى الضوضاء"),
        names=_n(
            (
                "a noise complaint",
                "loud music late at night",
                "construction noise at night",
                "reporting noise",
            ),
            (
                "una queja por ruido",
                "la música a todo volumen",
                "el ruido de construcción de noche",
            ),
            ("شكوى ضوضاء", "الموسيقى العالية", "ضجيج البناء ليلًا"),
        ),
        intro=_t(
            "Construction is allowed on weekdays from 7:00 to 19:00. Report ongoing noise to "
            "311; call 911 only for emergencies.",
            "Se permiten obras de construcción entre semana de 7:00 a 19:00. Reporte el ruido "
            "persistente al 311; llame al 911 solo en emergencias.",
            "يُسمح بأعمال البناء في أيام الأسبوع من 7:00 إلى 19:00. أبلغ عن الضوضاء المستمرة عبر "
            "الرقم 311، واتصل بالرقم 911 في حالات الطوارئ فقط.",
        ),
        phone="311",
        fee="free",
        deadline=Deadline(
            "quiet",
            ("time", "22:00"),
            _t(
                "Quiet hours start at {v} every night and last until 7:00.",
                "Las horas de silencio empiezan a las {v} cada noche y duran hasta las 7:00.",
                "تبدأ ساعات الهدوء في الساعة {v} كل ليلة وتستمر حتى الساعة 7:00.",
            ),
        ),
    ),
)

_SECOND: tuple[Service, ...] = (
    Service(
        key="business-licences",
        title=_t("Business licences", "Licencias comerciales", "تراخيص الأعمال التجارية"),
        page=_t("a business licence", "la licencia comercial", "ترخيص النشاط التجاري"),
        names=_n(
            ("a business license", "a license to open a shop", "registering my business"),
            ("la licencia de negocio", "el permiso para abrir una tienda", "registrar mi negocio"),
            ("رخصة تجارية", "ترخيص فتح محل", "تسجيل مشروعي التجاري"),
        ),
        intro=_t(
            "Every business that operates in the city, including home-based businesses and "
            "street vendors, needs a business licence, renewed every year.",
            "Todo negocio que opera en la ciudad, incluidos los negocios en casa y los "
            "vendedores ambulantes, necesita una licencia comercial que se renueva cada año.",
            "يحتاج كل نشاط تجاري يعمل في المدينة، بما في ذلك الأعمال المنزلية والباعة "
            "المتجولون، إلى ترخيص تجاري يُجدَّد كل عام.",
        ),
        phone="555-0110",
        fee=("150", "year"),
        office="permits",
        hours=("weekdays", "8:00", "16:00"),
        documents=("tax_id", "lease"),
        deadline=Deadline(
            "due",
            ("date", 1, 31),
            _t(
                "Renew by {v} each year to avoid a penalty.",
                "Renueve antes del {v} de cada año para evitar una multa.",
                "جدّد الترخيص قبل {v} من كل عام لتجنب الغرامة.",
            ),
        ),
    ),
    Service(
        key="building-permits",
        title=_t("Building permits", "Permisos de construcción", "تصاريح البناء"),
        page=_t("a building permit", "el permiso de construcción", "تصريح البناء"),
        names=_n(
            ("a permit to build a deck", "a renovation permit", "a construction permit"),
            (
                "un permiso para construir una terraza",
                "el permiso de remodelación",
                "la licencia de obra",
            ),
            ("تصريح بناء شرفة", "ترخيص الترميم", "رخصة البناء"),
        ),
        intro=_t(
            "You need a building permit for new structures, additions, decks, roof replacements "
            "and most electrical and plumbing work. Painting and minor repairs do not need one.",
            "Necesita un permiso de construcción para estructuras nuevas, ampliaciones, "
            "terrazas, cambios de techo y la mayoría de los trabajos eléctricos y de plomería. "
            "La pintura y las reparaciones menores no lo necesitan.",
            "تحتاج إلى تصريح بناء للمنشآت الجديدة والتوسعات والشرفات واستبدال الأسقف ومعظم "
            "أعمال الكهرباء والسباكة، ولا تحتاج إليه أعمال الطلاء والإصلاحات البسيطة.",
        ),
        phone="555-0112",
        fee=("95", "once"),
        fee_label=_t("plan review fee", "Tarifa de revisión de planos", "رسوم مراجعة المخططات"),
        office="permits",
        hours=("weekdays", "8:00", "16:00"),
        documents=("site_plan", "photo_id"),
        deadline=Deadline(
            "takes",
            ("count", 15, "business_days"),
            _t(
                "Plan review takes about {v}.",
                "La revisión de planos tarda unos {v}.",
                "تستغرق مراجعة المخططات نحو {v}.",
            ),
        ),
    ),
    Service(
        key="birth-certificates",
        title=_t("Birth certificates", "Actas de nacimiento", "شهادات الميلاد"),
        page=_t("a birth certificate", "el acta de nacimiento", "شهادة الميلاد"),
        names=_n(
            (
                "a copy of my birth certificate",
                "a certified birth record",
                "my child's birth certificate",
            ),
            (
                "una copia de mi acta de nacimiento",
                "la partida de nacimiento",
                "el certificado de nacimiento de mi hijo",
            ),
            ("نسخة من شهادة ميلادي", "شهادة ميلاد ابني", "قيد الميلاد"),
        ),
        intro=_t(
            "Certified copies of birth certificates for people born in the city. You can ask "
            "for your own, your child's or your parent's.",
            "Copias certificadas de actas de nacimiento de personas nacidas en la ciudad. Puede "
            "pedir la suya, la de su hijo o la de su padre o madre.",
            "نسخ مصدقة من شهادات الميلاد للمولودين في المدينة، ويمكنك طلب شهادتك أو شهادة طفلك "
            "أو أحد والديك.",
        ),
        phone="555-0115",
        fee=("18", "copy"),
        office="vital",
        hours=("weekdays", "8:30", "16:30"),
        documents=("photo_id", "application_form"),
        deadline=Deadline(
            "takes",
            ("count", 10, "business_days"),
            _t(
                "In person you get the copy the same day; by mail it takes {v}.",
                "En persona recibe la copia el mismo día; por correo tarda {v}.",
                "تحصل على النسخة في اليوم نفسه عند الحضور شخصيًا، وتستغرق بالبريد {v}.",
            ),
        ),
    ),
    Service(
        key="voter-registration",
        title=_t("Voter registration", "Inscripción de votantes", "تسجيل الناخبين"),
        page=_t("voter registration", "la inscripción para votar", "تسجيل الناخبين"),
        names=_n(
            ("registering to vote", "signing up to vote", "updating my voter registration"),
            (
                "inscribirme para votar",
                "registrarme como votante",
                "actualizar mi registro electoral",
            ),
            ("التسجيل للتصويت", "قيدي في سجل الناخبين", "تحديث تسجيلي الانتخابي"),
        ),
        intro=_t(
            "Citizens aged 18 or older on election day who live in the city can register to "
            "vote online, by mail or in person. Update your registration when you move.",
            "Los ciudadanos que tengan 18 años o más el día de la elección y vivan en la ciudad "
            "pueden inscribirse para votar en línea, por correo o en persona. Actualice su "
            "inscripción cuando se mude.",
            "يمكن للمواطنين الذين يبلغون 18 عامًا فأكثر يوم الانتخاب ويقيمون في المدينة التسجيل "
            "للتصويت عبر الإنترنت أو بالبريد أو شخصيًا، مع تحديث التسجيل عند الانتقال.",
        ),
        phone="555-0130",
        fee="free",
        office="elections",
        hours=("weekdays", "8:00", "17:00"),
        documents=("photo_id",),
        deadline=Deadline(
            "due",
            ("count", 15, "days"),
            _t(
                "Register at least {v} before an election.",
                "Inscríbase al menos {v} antes de una elección.",
                "سجّل قبل الانتخابات بمدة {v} على الأقل.",
            ),
        ),
    ),
    Service(
        key="marriage-licences",
        title=_t("Marriage licences", "Licencias de matrimonio", "تراخيص الزواج"),
        page=_t("a marriage licence", "la licencia de matrimonio", "ترخيص الزواج"),
        names=_n(
            ("a marriage license", "getting married at City Hall", "a wedding licence"),
            ("la licencia para casarnos", "casarse en el Ayuntamiento", "el permiso de matrimonio"),
            ("رخصة الزواج", "الزواج في مبنى البلدية", "ترخيص عقد القران"),
        ),
        intro=_t(
            "Both partners must come in person. The licence can be used for a ceremony "
            "anywhere in the state.",
            "Ambos miembros de la pareja deben acudir en persona. La licencia sirve para una "
            "ceremonia en cualquier lugar del estado.",
            "يجب حضور الطرفين شخصيًا، ويمكن استخدام الترخيص لإقامة المراسم في أي مكان في الولاية.",
        ),
        phone="555-0100",
        fee=("60", "once"),
        office="clerk",
        hours=("weekdays", "9:00", "16:00"),
        documents=("photo_id",),
        deadline=Deadline(
            "valid",
            ("count", 60, "days"),
            _t(
                "The licence is valid for {v} after it is issued.",
                "La licencia es válida por {v} después de su emisión.",
                "الترخيص صالح لمدة {v} من تاريخ إصداره.",
            ),
        ),
    ),
    Service(
        key="graffiti-removal",
        title=_t("Graffiti removal", "Eliminación de grafitis", "إزالة الكتابة على الجدران"),
        page=_t("graffiti removal", "la eliminación de grafitis", "إزالة الكتابة على الجدران"),
        names=_n(
            ("removing graffiti", "graffiti on my wall", "spray paint on a building"),
            ("quitar grafitis", "grafiti en mi pared", "pintadas en un edificio"),
            ("إزالة الغرافيتي", "رسومات على جدار منزلي", "كتابات بالرذاذ على مبنى"),
        ),
        intro=_t(
            "The city removes graffiti from public property and, with the owner's written "
            "consent, from private walls and fences facing the street.",
            "La ciudad elimina los grafitis de la propiedad pública y, con el consentimiento "
            "por escrito del dueño, de las paredes y cercas privadas que dan a la calle.",
            "تزيل المدينة الكتابات من الممتلكات العامة، ومن الجدران والأسوار الخاصة المطلة على "
            "الشارع بموافقة خطية من المالك.",
        ),
        phone="311",
        fee="free",
        documents=("consent_form",),
        deadline=Deadline(
            "takes",
            ("count", 48, "hours"),
            _t(
                "Crews remove most graffiti within {v}; offensive graffiti is removed the same "
                "day.",
                "Las cuadrillas eliminan la mayoría de los grafitis en {v}; los ofensivos se "
                "eliminan el mismo día.",
                "تزيل الفرق معظم الكتابات خلال {v}، وتُزال الكتابات المسيئة في اليوم نفسه.",
            ),
        ),
    ),
    Service(
        key="yard-waste",
        title=_t(
            "Yard waste collection", "Recolección de desechos de jardín", "جمع مخلفات الحدائق"
        ),
        page=_t(
            "yard waste collection", "la recolección de desechos de jardín", "جمع مخلفات الحدائق"
        ),
        names=_n(
            ("picking up leaves", "grass clippings", "yard waste bags", "branches from my yard"),
            ("la recogida de hojas", "el pasto cortado", "las bolsas de desechos de jardín"),
            ("جمع أوراق الشجر", "العشب المقصوص", "أكياس مخلفات الحديقة"),
        ),
        intro=_t(
            "Leaves, grass clippings and small branches are collected on Mondays in paper yard "
            "waste bags sold at city offices and hardware stores.",
            "Las hojas, el pasto cortado y las ramas pequeñas se recogen los lunes en bolsas de "
            "papel para desechos de jardín que se venden en las oficinas de la ciudad y en "
            "ferreterías.",
            "تُجمع أوراق الشجر والعشب المقصوص والأغصان الصغيرة أيام الاثنين في أكياس ورقية "
            "مخصصة تُباع في مكاتب المدينة ومحلات الأدوات.",
        ),
        phone="311",
        fee=("2", "bag"),
        deadline=Deadline(
            "season_end",
            ("date", 11, 30),
            _t(
                "Collection runs every year from April 1 to {v}.",
                "La recolección funciona cada año del 1 de abril al {v}.",
                "يستمر الجمع كل عام من 1 أبريل حتى {v}.",
            ),
        ),
    ),
    Service(
        key="swimming-pools",
        title=_t("Public swimming pools", "Piscinas públicas", "المسابح العامة"),
        page=_t("a pool day pass", "el pase diario de la piscina", "تذكرة المسبح اليومية"),
        names=_n(
            ("the public pool", "swimming at the city pool", "a pool pass"),
            ("la alberca pública", "nadar en la piscina municipal", "la entrada a la piscina"),
            ("المسبح العام", "السباحة في مسبح المدينة", "تذكرة السباحة"),
        ),
        intro=_t(
            "Outdoor pools with lifeguards on duty, swim lessons and family swim. Children "
            "under 8 must be with an adult in the water.",
            "Piscinas al aire libre con salvavidas, clases de natación y horario familiar. Los "
            "niños menores de 8 años deben estar en el agua con un adulto.",
            "مسابح خارجية بوجود منقذين ودروس سباحة وأوقات للعائلات، ويجب أن يرافق شخص بالغ "
            "الأطفال دون 8 سنوات في الماء.",
        ),
        phone="555-0175",
        fee=("4", "day"),
        office="pool",
        hours=("daily", "12:00", "19:00"),
        deadline=Deadline(
            "season_start",
            ("date", 6, 15),
            _t(
                "Pools open for the summer season on {v}.",
                "Las piscinas abren la temporada de verano el {v}.",
                "تفتح المسابح لموسم الصيف في {v}.",
            ),
        ),
    ),
    Service(
        key="community-gardens",
        title=_t(
            "Community garden plots", "Parcelas de huertos comunitarios", "قطع الحدائق المجتمعية"
        ),
        page=_t(
            "a community garden plot",
            "una parcela en el huerto comunitario",
            "قطعة في الحديقة المجتمعية",
        ),
        names=_n(
            ("a garden plot", "growing vegetables in a community garden", "renting a plot"),
            ("un huerto comunitario", "una parcela para sembrar", "cultivar verduras"),
            ("قطعة أرض للزراعة", "زراعة الخضار في حديقة مجتمعية", "استئجار قطعة زراعية"),
        ),
        intro=_t(
            "Twelve community gardens with small plots, water and shared tools. Plots are "
            "assigned by lottery each spring.",
            "Doce huertos comunitarios con parcelas pequeñas, agua y herramientas compartidas. "
            "Las parcelas se asignan por sorteo cada primavera.",
            "اثنتا عشرة حديقة مجتمعية فيها قطع صغيرة ومياه وأدوات مشتركة، وتُوزَّع القطع بالقرعة "
            "كل ربيع.",
        ),
        phone="555-0176",
        fee=("30", "season"),
        office="parks",
        hours=("weekdays", "9:00", "17:00"),
        documents=("proof_of_address",),
        deadline=Deadline(
            "due",
            ("date", 2, 15),
            _t(
                "Apply for the lottery by {v}.",
                "Inscríbase en el sorteo antes del {v}.",
                "قدّم طلب المشاركة في القرعة قبل {v}.",
            ),
        ),
    ),
    Service(
        key="special-event-permits",
        title=_t(
            "Special event permits", "Permisos para eventos especiales", "تصاريح الفعاليات الخاصة"
        ),
        page=_t(
            "a special event permit", "el permiso para eventos especiales", "تصريح الفعاليات الخاصة"
        ),
        names=_n(
            (
                "a block party permit",
                "a permit for a street festival",
                "an event permit for the park",
            ),
            (
                "el permiso para una fiesta en la cuadra",
                "un permiso para un festival en la calle",
                "el permiso para un evento en el parque",
            ),
            ("تصريح حفلة في الشارع", "تصريح مهرجان", "تصريح فعالية في الحديقة"),
        ),
        intro=_t(
            "Block parties, street fairs, parades and events in parks with more than 50 people "
            "need a special event permit. Street closures need the permit too.",
            "Las fiestas de cuadra, ferias callejeras, desfiles y eventos en parques con más de "
            "50 personas necesitan un permiso para eventos especiales. Los cierres de calles "
            "también lo necesitan.",
            "تحتاج حفلات الأحياء والمعارض في الشوارع والمسيرات والفعاليات في الحدائق التي يزيد "
            "عدد حضورها على 50 شخصًا إلى تصريح فعالية خاصة، وكذلك إغلاق الشوارع.",
        ),
        phone="555-0114",
        fee=("75", "once"),
        office="permits",
        hours=("weekdays", "8:00", "16:00"),
        documents=("event_map", "insurance"),
        deadline=Deadline(
            "ahead",
            ("count", 45, "days"),
            _t(
                "Apply at least {v} before the event.",
                "Solicítelo al menos {v} antes del evento.",
                "قدّم الطلب قبل الفعالية بمدة {v} على الأقل.",
            ),
        ),
    ),
    Service(
        key="rental-inspections",
        title=_t(
            "Rental housing inspections",
            "Inspecciones de viviendas de alquiler",
            "تفتيش المساكن المؤجرة",
        ),
        page=_t(
            "a rental housing inspection",
            "la inspección de viviendas de alquiler",
            "تفتيش المساكن المؤجرة",
        ),
        names=_n(
            (
                "a housing inspection",
                "an inspection of my apartment",
                "an inspection for mold in my apartment",
            ),
            (
                "una inspección de mi apartamento",
                "una inspección de vivienda",
                "una inspección por moho",
            ),
            ("تفتيش شقتي", "تفتيش السكن", "تفتيش العفن في شقتي"),
        ),
        intro=_t(
            "Tenants can ask for an inspection when heat, water, mold, pests or other unsafe "
            "conditions are not fixed. Inspectors order repairs when they find violations.",
            "Los inquilinos pueden pedir una inspección cuando no se reparan la calefacción, el "
            "agua, el moho, las plagas u otras condiciones peligrosas. Los inspectores ordenan "
            "reparaciones cuando encuentran infracciones.",
            "يمكن للمستأجرين طلب تفتيش عندما لا تُصلح مشكلات التدفئة أو المياه أو العفن أو "
            "الحشرات أو غيرها من الظروف غير الآمنة، ويأمر المفتشون بالإصلاح عند وجود مخالفات.",
        ),
        phone="555-0160",
        fee="free",
        office="housing",
        hours=("weekdays", "8:00", "17:00"),
        documents=("lease_copy",),
        deadline=Deadline(
            "takes",
            ("count", 3, "business_days"),
            _t(
                "An inspector visits within {v} of the request.",
                "Un inspector visita la vivienda dentro de los {v} siguientes a la solicitud.",
                "يزور المفتش المسكن خلال {v} من تقديم الطلب.",
            ),
        ),
    ),
    Service(
        key="snow-removal",
        title=_t("Snow on sidewalks", "Nieve en las aceras", "إزالة الثلوج عن الأرصفة"),
        page=_t(
            "clearing snow from sidewalks",
            "la limpieza de nieve en las aceras",
            "إزالة الثلوج عن الأرصفة",
        ),
        names=_n(
            ("shoveling my sidewalk", "snow on the sidewalk", "the snow shoveling rule"),
            ("palear la nieve de la acera", "la nieve en la banqueta", "limpiar la nieve"),
            ("جرف الثلج عن الرصيف", "الثلج على الرصيف", "تنظيف الثلج أمام البيت"),
        ),
        intro=_t(
            "Property owners must clear the sidewalk in front of their building after snow "
            "stops falling. Residents aged 65 and older or with a disability can ask for help "
            "from volunteer shovelers.",
            "Los propietarios deben limpiar la acera frente a su edificio cuando deja de nevar. "
            "Los residentes de 65 años o más o con una discapacidad pueden pedir ayuda a "
            "voluntarios.",
            "يجب على المالكين تنظيف الرصيف أمام مبانيهم بعد توقف تساقط الثلج، ويمكن للسكان "
            "الذين تبلغ أعمارهم 65 عامًا فأكثر أو ذوي الإعاقة طلب المساعدة من المتطوعين.",
        ),
        phone="311",
        fee=("1,000", "once"),
        fee_sentence=_t(
            "Owners who do not clear their sidewalk can be fined up to {fee}.",
            "Los propietarios que no limpien la acera pueden recibir una multa de hasta {fee}.",
            "يمكن تغريم المالكين الذين لا ينظفون الرصيف بما يصل إلى {fee}.",
        ),
        fee_questions=_n(
            (
                "How big is the fine for not shoveling snow?",
                "What's the penalty if I don't clear the snow from my sidewalk?",
            ),
            (
                "¿De cuánto es la multa por no limpiar la nieve?",
                "¿Cuál es la multa si no limpio la nieve de la acera?",
            ),
            ("كم غرامة عدم إزالة الثلج عن الرصيف؟", "ما العقوبة إذا لم أنظف الرصيف من الثلج؟"),
        ),
        deadline=Deadline(
            "takes",
            ("count", 24, "hours"),
            _t(
                "Clear the sidewalk within {v} after the snow stops.",
                "Limpie la acera dentro de las {v} siguientes a que deje de nevar.",
                "نظّف الرصيف خلال {v} من توقف الثلج.",
            ),
        ),
    ),
    Service(
        key="immunization-clinics",
        title=_t(
            "Free immunization clinics",
            "Clínicas de vacunación gratuitas",
            "عيادات التطعيم المجانية",
        ),
        page=_t("immunization clinics", "las clínicas de vacunación", "عيادات التطعيم"),
        names=_n(
            (
                "vaccines for my kids",
                "the flu shot",
                "school vaccinations",
                "getting my child vaccinated",
            ),
            ("las vacunas para mis hijos", "la vacuna contra la gripe", "vacunar a mi hijo"),
            ("تطعيمات الأطفال", "لقاح الإنفلونزا", "تطعيم ابني"),
        ),
        intro=_t(
            "The Health Department gives routine childhood vaccines, school vaccines and flu "
            "shots, with or without insurance. Walk in, no appointment.",
            "El Departamento de Salud pone las vacunas infantiles de rutina, las vacunas "
            "escolares y la vacuna contra la gripe, con o sin seguro. Sin cita previa.",
            "تقدم إدارة الصحة التطعيمات الروتينية للأطفال وتطعيمات المدارس ولقاح الإنفلونزا، "
            "بتأمين أو بدونه، ودون موعد مسبق.",
        ),
        phone="555-0170",
        fee="free",
        office="health",
        hours=("thursdays", "13:00", "17:00"),
        documents=("vaccination_record",),
    ),
    Service(
        key="parking-tickets",
        title=_t(
            "Paying a parking ticket", "Pagar una multa de estacionamiento", "دفع مخالفة الوقوف"
        ),
        page=_t("a parking ticket", "la multa de estacionamiento", "مخالفة الوقوف"),
        names=_n(
            ("paying a parking ticket", "a parking citation", "a parking fine"),
            (
                "pagar una multa de estacionamiento",
                "una infracción de estacionamiento",
                "la multa de parqueo",
            ),
            ("دفع مخالفة ركن السيارة", "مخالفة الوقوف الخاطئ", "غرامة الوقوف"),
        ),
        intro=_t(
            "Pay online with the ticket number, by mail or in person. If you think the ticket "
            "is wrong you can ask for a review.",
            "Pague en línea con el número de la multa, por correo o en persona. Si cree que la "
            "multa es un error, puede pedir una revisión.",
            "ادفع عبر الإنترنت برقم المخالفة أو بالبريد أو شخصيًا، وإذا رأيت أن المخالفة خاطئة "
            "يمكنك طلب مراجعتها.",
        ),
        phone="555-0146",
        fee=("45", "once"),
        fee_label=_t("fine", "Multa", "الغرامة"),
        office="transportation",
        hours=("weekdays", "8:30", "16:30"),
        documents=("ticket_number",),
        deadline=Deadline(
            "due",
            ("count", 21, "days"),
            _t(
                "Pay or ask for a review within {v} of the ticket date; after that the fine "
                "doubles.",
                "Pague o pida una revisión dentro de los {v} siguientes a la fecha de la multa; "
                "después, la multa se duplica.",
                "ادفع أو اطلب المراجعة خلال {v} من تاريخ المخالفة، وبعد ذلك تتضاعف الغرامة.",
            ),
        ),
    ),
)

SERVICES: tuple[Service, ...] = _FIRST + _SECOND
BY_KEY = {s.key: s for s in SERVICES}

#: The Spanish pages the city never translated.
SPANISH_MISSING = (
    "senior-transport",
    "business-licences",
    "community-gardens",
    "special-event-permits",
    "rental-inspections",
    "immunization-clinics",
)
#: Spanish pages translated once and never updated: field -> the old value they still show.
SPANISH_OUTDATED: dict[str, dict[str, object]] = {
    "water-bills": {"phone": "555-0119", "fee": ("10", "once"), "updated": "2021-05-10"},
    "parking-permits": {"fee": ("35", "year"), "updated": "2020-11-02"},
    "library-cards": {"hours": ("mon_sat", "9:00", "18:00"), "updated": "2021-01-18"},
    "pet-licences": {"fee": ("20", "year"), "updated": "2019-08-27"},
    "birth-certificates": {"fee": ("15", "copy"), "updated": "2020-03-09"},
    "parking-tickets": {"deadline_value": ("count", 30, "days"), "updated": "2021-07-01"},
}
