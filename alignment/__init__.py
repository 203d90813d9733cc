"""Training stages on TRL (SFT, reward model, DPO, PPO; GRPO and RLOO), fed by tuneset's datasets.

`registry` holds one entry per stage (its config class, TRL config class, defaults, data kind,
trainer builder, help text); everything else is made from it. One module per stage (`sft`,
`reward`, `dpo`, `ppo`, `grpo`, `rloo`; the last two share `online`) builds TRL's own trainer
and config; `config` holds the stage configs, `args` the TRL arguments, `data` validates and
shapes records, `base_model` finds the model to start from, `report` and `handoff` write what a
run leaves behind, and `run` reads a config and chains them. Stage modules import TRL, so
nothing here imports them eagerly.
"""
