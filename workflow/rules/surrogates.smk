# One surrogate-model solve (UFM, MUFM, ULPM, DUFM, the perturbation operator): a changed spec or
# surrogate code digest reruns it; plotting options do not.
rule surrogate:
    input:
        spec=surrogate_spec,
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
        code=surrogate_code,
    shell:
        shell_line("surrogate")
