# Train one (setting, seed): checkpoints at the setting's epochs, a manifest and the history.
rule train:
    input:
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
        setting=setting_json,
        out_dir=f"{RESULTS}/train/{{setting}}/seed{{seed}}",
        device=NC.device,
        code=CODE["train"],
    shell:
        "python -m ncrepro.cli train --setting {params.setting:q} --seed {wildcards.seed} --data {input.data}"
        " --out {params.out_dir} --device {params.device} --threads {threads} 2> {log}"
