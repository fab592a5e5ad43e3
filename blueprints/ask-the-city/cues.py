"""Cheap signals read from a question: its language, what it asks for, and whether to decline.

The language comes from the script (Arabic letters) and from common function words (Spanish
against English); no model is needed for three languages this different. The intents (fee,
hours, place, phone, documents, deadline) add the words the city's pages use for that kind of
fact, so that "how much does it cost" finds the "Fees" section. The decline cues are the
city's guardrail lists: requests for legal advice, for another resident's data, and a few
well-known topics outside city services.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_SPANISH_MARKS = re.compile(r"[ñ¿¡áéíóú]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SPANISH_WORDS = _words(
    "el la los las de del que qué cuánto cuanto cuál cual dónde donde para mi por con una "
    "hay tengo necesito puedo se cómo como hola gracias hasta cuándo cuando es y en"
)
_ENGLISH_WORDS = _words(
    "the what how is do does i my for where when to and of much can you u hi thanks there "
    "it need have get"
)


def fold(text: str) -> str:
    """Lower case, without accents or Arabic diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect_language(question: str, languages: list[str]) -> str:
    """The question's language among `languages` (the first one when nothing tells)."""
    if "ar" in languages and len(_ARABIC.findall(question)) >= 2:
        return "ar"
    words = re.findall(r"\w+", question.casefold())
    spanish = sum(w in _SPANISH_WORDS for w in words) + 2 * len(_SPANISH_MARKS.findall(question))
    english = sum(w in _ENGLISH_WORDS for w in words)
    if "es" in languages and spanish > english:
        return "es"
    if "en" in languages:
        return "en"
    return languages[0]


# intent -> language -> (trigger pattern on folded text, words the pages use)
INTENTS: dict[str, dict[str, tuple[str, str]]] = {
    "fee": {
        "en": (r"\b(cost|how much|price|fee|pay|charge|fine|penalty)", "fee fees cost free"),
        "es": (
            r"\b(cuesta|cuanto|precio|tarifa|pagar|cobra|costo|multa)",
            "costo tarifa gratuito",
        ),
        "ar": (r"(تكلفة|سعر|رسوم|ادفع|غرامة|عقوبة|كم)", "الرسوم رسوم مجانية"),
    },
    "hours": {
        "en": (r"\b(open|hours|close|closes|what time|until)", "opening hours open"),
        "es": (r"\b(abre|abren|horario|cierra|cierran|que hora|hasta)", "horario de atencion"),
        "ar": (r"(يفتح|تفتح|ساعات|يغلق|تغلق|الدوام|ساعة)", "ساعات العمل"),
    },
    "office": {
        "en": (r"\b(where|address|location|go|office|in person)", "where to go in person"),
        "es": (
            r"\b(donde|adonde|direccion|oficina|persona|ir)\b",
            "donde hacer el tramite en persona",
        ),
        "ar": (r"(اين|عنوان|مكان|اذهب|شخصيا|المكتب)", "مكان تقديم الطلب شخصيا"),
    },
    "phone": {
        "en": (r"\b(call|phone|number|telephone|contact)", "contact call"),
        "es": (r"\b(llam|telefono|numero|contacto|comunico)", "contacto llame al"),
        "ar": (r"(اتصل|هاتف|رقم|التواصل|اتواصل)", "التواصل اتصل بالرقم"),
    },
    "documents": {
        "en": (
            r"\b(bring|documents?|papers|paperwork|need|proof|id|required)",
            "documents you need bring",
        ),
        "es": (
            r"\b(documentos|traer|papeles|necesito|llevar|presentar|piden)",
            "documentos necesarios presentar",
        ),
        "ar": (r"(مستندات|المستندات|وثائق|احضر|احتاج|اوراق|الاوراق)", "المستندات المطلوبة احضار"),
    },
    "deadline": {
        "en": (
            r"\b(deadline|last day|by when|how long|advance|notice|due|expire|valid|season|"
            r"how many days|how quickly|start|begin|end|date|by what time|put out)",
            "deadlines and timing",
        ),
        "es": (
            r"\b(plazo|fecha|cuando|cuanto tiempo|anticipacion|antes|vence|dura|temporada|"
            r"termina|empieza|tarda|cuantos dias|sacar)",
            "plazos",
        ),
        "ar": (
            r"(موعد|اخر|متى|مسبقا|مدة|صلاحية|يستغرق|موسم|ينتهي|يبدا|تبدا|تاريخ|خلال كم|قبل كم|"
            r"احجز|يجب ان اضع|اخراج)",
            "المواعيد والمدد",
        ),
    },
}

# reason -> language -> pattern on the folded question
DECLINE_CUES: dict[str, dict[str, str]] = {
    "legal_advice": {
        "en": r"\b(sue|suing|lawsuit|lawyer|attorney|legal|illegal|plead|judge|court|custody|"
        r"divorce|evict\w*)\b",
        "es": r"\b(demandar|demanda|abogad[oa]|legal|asesoria legal|culpable|corte|juez|custodia|"
        r"divorcio|desaloj\w*)\b",
        "ar": r"(مقاضاة|اقاضي|محام|قانوني|المحكمة|القاضي|الحضانة|طلاق|طردي)",
    },
    "other_resident": {
        "en": r"(caseworker|case notes?|case file|neighbou?r|'s (home )?address|social worker)",
        "es": r"(trabajador[a]? social|notas del caso|expediente|vecin[oa]|"
        r"direccion de la casa de)",
        "ar": r"(الاخصائي الاجتماعي|ملاحظات ملف|ملف|جاري|عنوان منزل)",
    },
    "out_of_scope": {
        "en": r"\b(weather|forecast|who won|recommend|restaurant|pizza|stocks?|invest|poem|joke|"
        r"movies?|recipe|brakes)\b",
        "es": r"\b(clima|quien gano|recomienda|restaurante|acciones|invertir|poema|chiste|"
        r"peliculas?|receta|frenos)\b",
        "ar": r"(الطقس|من فاز|مطعم|الاسهم|قصيدة|نكتة|الافلام|فرامل|وصفة)",
    },
}

_COMPILED = {
    key: {lang: re.compile(fold(pattern)) for lang, pattern in by_lang.items()}
    for key, by_lang in DECLINE_CUES.items()
}
_INTENTS = {
    key: {lang: (re.compile(fold(p)), words) for lang, (p, words) in by_lang.items()}
    for key, by_lang in INTENTS.items()
}


def intents(question: str, lang: str) -> list[tuple[str, str]]:
    """(intent, the pages' words for it) for every intent the question shows."""
    folded = fold(question)
    return [
        (key, by_lang[lang][1])
        for key, by_lang in _INTENTS.items()
        if lang in by_lang and by_lang[lang][0].search(folded)
    ]


def decline_reason(question: str, lang: str) -> str | None:
    """Why the question must be declined, or None."""
    folded = fold(question)
    for reason, by_lang in _COMPILED.items():
        if lang in by_lang and by_lang[lang].search(folded):
            return reason
    return None
