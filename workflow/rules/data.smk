# Stage a dataset (verified pre-staged copy, checksum-verified download, or a dataset of your own) into
# cached tensor files.
rule stage_data:
    output:
        train=f"{DATA_ROOT}/{{dataset}}/train.pt",
        test=f"{DATA_ROOT}/{{dataset}}/test.pt",
    log:
        f"{DATA_ROOT}/{{dataset}}/stage.log",
    conda:
        "../envs/ncrepro.yaml"
    params:
        data_config=stage_data_config,
        code=CODE["stage_data"],
    shell:
        shell_line("data")


# Data staging runs where the internet is (the login node), never on a compute node.
localrules:
    stage_data,
