"""Training stages on TRL (SFT, reward model, DPO, PPO; GRPO and RLOO), fed by tuneset's datasets.

One module per stage (`sft`, `reward`, `dpo`, `ppo`, `grpo`, `rloo`; the last two share
`online`), each a thin wrapper that builds TRL's own
trainer and config; `config` holds the stage configs, `data` validates and shapes records,
`base_model` finds the model to start from, `report` and `handoff` write what a run leaves
behind, and `run.run_training` chains them. Stage modules import TRL, so nothing here imports
them eagerly.
"""
