# Few-shot transfer of every checkpoint of one (setting, seed) to its measure.transfer classes (Review
# Fig. 10): the target classes' CDNV and the ridge classifier's accuracy per episode.
rule transfer:
    input:
        manifest=rules.train.output.manifest,
        data=train_cache,
        test=test_cache,
    output:
        f"{RESULTS}/transfer/{{setting}}/seed{{seed}}.parquet",
    log:
        f"{RESULTS}/transfer/{{setting}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/transfer/{{setting}}/seed{{seed}}.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    threads: NC.threads
    resources:
        runtime=RESOURCES["stats"]["runtime"],
        mem_mb=RESOURCES["stats"]["mem_mb"],
    params:
        epochs=checkpoint_epochs,
        device=NC.device,
        code=CODE["transfer"],
    shell:
        shell_line("transfer")
