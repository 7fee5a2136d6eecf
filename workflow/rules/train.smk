# The resolved setting of one training, written for its jobs and handed over by path; rewritten (and its
# runs made stale) when the setting changes.
rule setting_spec:
    output:
        f"{RESULTS}/specs/settings/{{setting}}.json",
    log:
        f"{RESULTS}/specs/settings/{{setting}}.log",
    localrule: True
    params:
        spec=setting_json,
    run:
        atomic_write_text(output[0], params.spec)


# Train one (setting, seed): checkpoints at the setting's epochs, a manifest and the history.
rule train:
    input:
        setting=rules.setting_spec.output[0],
        data=train_cache,
    output:
        manifest=f"{RESULTS}/train/{{setting}}/seed{{seed}}/manifest.json",
        history=f"{RESULTS}/train/{{setting}}/seed{{seed}}/history.parquet",
    log:
        f"{RESULTS}/train/{{setting}}/seed{{seed}}/train.log",
    benchmark:
        f"{RESULTS}/train/{{setting}}/seed{{seed}}/train.benchmark.tsv"
    conda:
        "../envs/ncrepro.yaml"
    threads: NC.threads
    resources:
        runtime=RESOURCES["train"]["runtime"],
        mem_mb=RESOURCES["train"]["mem_mb"],
    params:
        out_dir=f"{RESULTS}/train/{{setting}}/seed{{seed}}",
        device=NC.device,
        code=CODE["train"],
    shell:
        shell_line("train")
