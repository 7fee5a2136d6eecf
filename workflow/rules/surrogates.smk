# One surrogate-model solve (UFM, MUFM, ULPM, DUFM, the perturbation operator): its spec and the
# surrogate code digest are params, so changing either reruns it; plotting options do not.
rule surrogate:
    output:
        f"{RESULTS}/surrogates/{{surrogate}}.parquet",
    log:
        f"{RESULTS}/surrogates/{{surrogate}}.log",
    benchmark:
        f"{RESULTS}/surrogates/{{surrogate}}.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    # Batched DUFM sweeps take `threads` (parallel across runs); the other solves are single small
    # problems, fastest on one thread, and independent solves run as parallel jobs.
    threads: surrogate_threads
    resources:
        runtime=RESOURCES["surrogate"]["runtime"],
        mem_mb=RESOURCES["surrogate"]["mem_mb"],
    params:
        spec=surrogate_json,
        code=surrogate_code,
    shell:
        "python -m ncrepro.cli surrogate --spec {params.spec:q} --out {output} --threads {threads} 2> {log}"
