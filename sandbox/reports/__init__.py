"""What a run tells people: the report model, its renderings and the transparency documents.

model.py        `AuditReport`: the versioned JSON report (data only)
build.py        assemble the report from a run's facts
render.py       HTML (charts inline) and Markdown renderings, from templates/
answers.py      the Answers section of an assistant pilot's report, prepared for every medium
disclosure.py   which files are for publication, and the small cells they suppress
writer.py       write the report and every document into one folder
template_cache.py  compiled templates kept under the sandbox home for the next process
documents/      model card, datasheet, UK ATRS record, residents' notices, PDF
"""
