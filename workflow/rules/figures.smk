# One figure: its tidy data table, its claims checked on that table, and its PDF.
rule figure:
    input:
        figure_inputs,
    output:
        pdf="figures/{figure}.pdf",
        figdata=f"{RESULTS}/figdata/{{figure}}.parquet",
        claims=f"{RESULTS}/claims/{{figure}}.json",
    params:
        rule=figure_rule,
        meta=figure_meta,
    wildcard_constraints:
        figure=IMPLEMENTED_FIGURES,
    log:
        f"{RESULTS}/figdata/{{figure}}.log",
    shell:
        "{NCREPRO} figure --id {wildcards.figure} --rule {params.rule} --inputs {input}"
        " --pdf {output.pdf} --figdata {output.figdata} --claims {output.claims}"
        " --meta {params.meta:q} 2> {log}"
