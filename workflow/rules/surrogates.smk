# The resolved spec of one surrogate-model solve, written for its job and handed over by path; rewritten
# (and the solve made stale) when the spec changes.
rule surrogate_spec:
    output:
        f"{RESULTS}/specs/surrogates/{{surrogate}}.json",
    log:
        f"{RESULTS}/specs/surrogates/{{surrogate}}.log",
    localrule: True
    params:
        spec=surrogate_json,
    run:
        atomic_write_text(output[0], params.spec)


# One surrogate-model solve (UFM, MUFM, ULPM, DUFM, the perturbation operator): a changed spec or
# surrogate code digest reruns it; plotting options do not.
rule surrogate:
    input:
        spec=rules.surrogate_spec.output[0],
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
