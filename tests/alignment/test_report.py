from alignment.report import curve_points, plot_curves

HISTORY = [{"loss": 2.0, "step": 1}, {"loss": 1.5, "step": 2}, {"eval_loss": 1.7, "step": 2},
           {"train_loss": 1.75, "step": 2}]
PPO = [{"loss/policy_avg": 0.1, "loss/value_avg": 0.5, "objective/scores": 0.2, "step": s}
       for s in (1, 2)]


def test_curve_points_skip_other_records_and_non_finite_values():
    assert curve_points(HISTORY, "loss") == [(1, 2.0), (2, 1.5)]
    assert curve_points([{"loss": float("nan"), "step": 1}], "loss") == []


def test_loss_curve_is_a_png(tmp_path):
    assert plot_curves("sft", HISTORY, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ppo_plots_its_own_losses(tmp_path):
    assert plot_curves("ppo", PPO, tmp_path / "loss.png")


def test_nothing_logged_means_no_plot(tmp_path):
    assert not plot_curves("dpo", [{"train_loss": 1.0, "step": 1}], tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()
