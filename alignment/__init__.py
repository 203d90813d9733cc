"""Training stages on TRL (SFT, reward model, PPO, DPO), fed by tuneset's datasets."""
