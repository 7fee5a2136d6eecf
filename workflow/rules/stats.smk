# Per-layer sufficient statistics (streamed, O(K*D) memory per layer) of every checkpoint of one
# (setting, seed): one job per run writing epoch<E>.npz per checkpoint into the run's directory.
rule stats:
    input:
        manifest=rules.train.output.manifest,
        data=train_cache,
    output:
        directory(f"{RESULTS}/stats/{{setting}}/seed{{seed}}"),
    log:
        f"{RESULTS}/stats/{{setting}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/stats/{{setting}}/seed{{seed}}.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    threads: NC.threads
    resources:
        runtime=RESOURCES["stats"]["runtime"],
        mem_mb=RESOURCES["stats"]["mem_mb"],
    params:
        epochs=checkpoint_epochs,
        device=NC.device,
        code=CODE["stats"],
    shell:
        shell_line("stats")


# Tidy metric tables of one (setting, seed): every metric per (epoch, layer), geodesic prediction.
rule metrics:
    input:
        manifest=rules.train.output.manifest,
        stats=rules.stats.output,
    output:
        metrics=f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/metrics.parquet",
        geodesic=f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/geodesic.parquet",
    log:
        f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/metrics.log",
    benchmark:
        f"{RESULTS}/metrics/{{setting}}/seed{{seed}}/metrics.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    resources:
        runtime=RESOURCES["metrics"]["runtime"],
        mem_mb=RESOURCES["metrics"]["mem_mb"],
    params:
        stats=run_stats_files,
        code=CODE["metrics"],
    shell:
        shell_line("metrics")


# The same on the test split of the setting's dataset (the whole split, scaled as the training subset),
# for figures whose kind reads test metrics (e.g. test accuracy of the network's classifier); also the
# nearest-centre accuracy by the training split's class means (Review Fig. 9).
rule stats_test:
    input:
        manifest=rules.train.output.manifest,
        data=train_cache,
        test=test_cache,
        reference=rules.stats.output,
    output:
        directory(f"{RESULTS}/stats_test/{{setting}}/seed{{seed}}"),
    log:
        f"{RESULTS}/stats_test/{{setting}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/stats_test/{{setting}}/seed{{seed}}.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    threads: NC.threads
    resources:
        runtime=RESOURCES["stats"]["runtime"],
        mem_mb=RESOURCES["stats"]["mem_mb"],
    params:
        epochs=checkpoint_epochs,
        device=NC.device,
        code=CODE["stats"],
    shell:
        shell_line(
            "stats",
            split_cache="{input.test}",
            split="test",
            reference_dir="{input.reference}",
        )


use rule metrics as metrics_test with:
    input:
        manifest=rules.train.output.manifest,
        stats=rules.stats_test.output,
    output:
        metrics=f"{RESULTS}/metrics_test/{{setting}}/seed{{seed}}/metrics.parquet",
        geodesic=f"{RESULTS}/metrics_test/{{setting}}/seed{{seed}}/geodesic.parquet",
    log:
        f"{RESULTS}/metrics_test/{{setting}}/seed{{seed}}/metrics.log",
    benchmark:
        f"{RESULTS}/metrics_test/{{setting}}/seed{{seed}}/metrics.benchmark.tsv"
    params:
        stats=run_stats_files_test,
        code=CODE["metrics"],
