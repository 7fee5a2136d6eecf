# Train one (setting, seed): checkpoints at the setting's epochs, a manifest and the history.
rule train:
    input:
        data=train_cache,
    output:
        manifest=f"{RESULTS}/train/{{setting}}/seed{{seed}}/manifest.json",
        history=f"{RESULTS}/train/{{setting}}/seed{{seed}}/history.parquet",
    params:
        setting=setting_json,
        out_dir=lambda wc: f"{RESULTS}/train/{wc.setting}/seed{wc.seed}",
        device=NC.device,
    threads: NC.threads
    resources:
        gpu_job=1,
    log:
        f"{RESULTS}/train/{{setting}}/seed{{seed}}/train.log",
    shell:
        "{NCREPRO} train --setting {params.setting:q} --seed {wildcards.seed} --data {input.data}"
        " --out {params.out_dir} --device {params.device} --threads {threads} 2> {log}"
