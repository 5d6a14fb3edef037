"""What runs inside a Processing job (or its local emulation): the entrypoint (`processing`), a host's share of
the blocks (`hosts`), the files of the job output layout (`layout`, `records`), merging hosts (`merge`), the
user's script folder (`script_folder`) and the local multi-host emulation (`local_job`).

Built on `simulation.engine` only: nothing here imports the client (boto3) or the CLI, so the job image needs
neither. The image's entrypoint is `python3 -m simulation.processing` (an alias of `simulation.job.processing`
that deployed images and job requests name).
"""
