# Train one (setting, seed): checkpoints at the setting's epochs, a manifest and the history. With
# train.devices N, N processes (a GPU each) train it: the job asks a cluster for N GPUs, N times the
# threads and N times the memory.
rule train:
    input:
        setting=setting_spec,
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
    threads: train_threads
    resources:
        runtime=RESOURCES["train"]["runtime"],
        mem_mb=train_mem_mb,
        gpu=train_devices,
    params:
        out_dir=f"{RESULTS}/train/{{setting}}/seed{{seed}}",
        device=NC.device,
        code=CODE["train"],
    shell:
        shell_line("train")
