# One figure at one scale: its tidy data table, its claims checked on that table, and its PDF; its spec
# (settings, solves, plotting options) read from its file (ncrepro.specs).
rule figure:
    input:
        unpack(figure_inputs),
        spec=figure_spec,
    output:
        pdf=report(
            f"{RESULTS}/figures/{{figure}}.pdf",
            caption="../report/figure.rst",
            category=report_paper,
            subcategory=SCALE,
            labels=report_labels("figure"),
        ),
        figdata=report(
            f"{RESULTS}/figdata/{{figure}}.parquet",
            caption="../report/figure.rst",
            category=report_paper,
            subcategory=SCALE,
            labels=report_labels("figure data"),
        ),
        claims=f"{RESULTS}/claims/{{figure}}.json",
        claims_table=report(
            f"{RESULTS}/claims/{{figure}}.tsv",
            caption="../report/figure.rst",
            category=report_paper,
            subcategory=SCALE,
            labels=report_labels("claims"),
        ),
    log:
        f"{RESULTS}/figures/{{figure}}.log",
    benchmark:
        f"{RESULTS}/figures/{{figure}}.benchmark.tsv"
    wildcard_constraints:
        figure=IMPLEMENTED_FIGURES,
    conda:
        "../envs/ncrepro.yaml"
    resources:
        runtime=RESOURCES["figure"]["runtime"],
        mem_mb=RESOURCES["figure"]["mem_mb"],
    params:
        kind=figure_kind,
        runs=figure_run_names,
        code=figure_code,
        report_caption=figure_report_caption,
    shell:
        shell_line("figure")


# figures/<id>.pdf of an id that no figure kind builds: one line naming the closest ids, nothing runs.
rule unknown_figure:
    input:
        unknown_figure,
    output:
        "figures/{figure}.pdf",
    wildcard_constraints:
        figure=rf"(?!(?:{IMPLEMENTED_FIGURES})\.pdf$)[a-z0-9_]+",


# figures/<id>.pdf: the figure of the configured scale. The scale is a param, so switching
# scale republishes (Snakemake would otherwise keep an existing target whose inputs are missing).
rule publish_figure:
    input:
        rules.figure.output.pdf,
    output:
        "figures/{figure}.pdf",
    log:
        f"{RESULTS}/figures/{{figure}}.publish.log",
    wildcard_constraints:
        figure=IMPLEMENTED_FIGURES,
    conda:
        "../envs/ncrepro.yaml"
    params:
        scale=SCALE,
    shell:
        "cp {input} {output} 2> {log}"
