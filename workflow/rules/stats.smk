# Per-layer sufficient statistics of one checkpoint (streamed, O(K*D) memory per layer).
rule stats:
    input:
        manifest=rules.train.output.manifest,
        data=train_cache,
    output:
        f"{RESULTS}/stats/{{setting}}/seed{{seed}}/epoch{{epoch}}.npz",
    log:
        f"{RESULTS}/stats/{{setting}}/seed{{seed}}/epoch{{epoch}}.log",
    conda:
        "../envs/ncrepro.yaml"
    threads: NC.threads
    resources:
        runtime=RESOURCES["stats"]["runtime"],
        mem_mb=RESOURCES["stats"]["mem_mb"],
    params:
        device=NC.device,
        code=CODE["stats"],
    shell:
        "ncrepro stats --manifest {input.manifest} --epoch {wildcards.epoch} --data {input.data}"
        " --out {output} --device {params.device} --threads {threads} 2> {log}"


# Tidy metric tables of one (setting, seed): every metric per (epoch, layer), geodesic prediction.
rule metrics:
    input:
        manifest=rules.train.output.manifest,
        stats=run_stats_files,
    output:
        metrics=f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/metrics.parquet",
        geodesic=f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/geodesic.parquet",
    log:
        f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/metrics.log",
    conda:
        "../envs/ncrepro.yaml"
    resources:
        runtime=RESOURCES["metrics"]["runtime"],
        mem_mb=RESOURCES["metrics"]["mem_mb"],
    params:
        code=CODE["metrics"],
    shell:
        "ncrepro metrics --manifest {input.manifest} --stats {input.stats}"
        " --out-metrics {output.metrics} --out-geodesic {output.geodesic} 2> {log}"
