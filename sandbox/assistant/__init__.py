"""Assistant pilots: resident assistants evaluated offline, with parity across languages.

records.py     the published record types: a reference (question) and an answer
jsonl.py       bounded readers of the two JSON Lines files (references, answers), their schemas
knowledge.py   the knowledge base (documents, restricted ids) and the canaries, read with bounds
wall.py        what crosses to an assistant's container: questions, knowledge base, spec
normalise.py   text normalisation for matching: case, accents, digits, number formats
facts.py       expected facts (phrases, variants, patterns with a time limit) in an answer
language.py    language identification among the pilot's languages (py3langid, offline)
leaks.py       disclosure of restricted material: canaries, quotes, restricted citations
scoring.py     the assessment of each answer (`assess_answers`) and its success
"""
