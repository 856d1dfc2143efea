"""The variants' recipes: applied where the user gives no setting of their own, recorded in
config.json and said in the run's header; and how a conditional D hears its label."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from minigan import train
from minigan.gan import config, models
from minigan.gan.run import Run, build_gan


def test_a_conditional_mlp_on_images_gets_its_recipe_and_projection():
    cfg = config.resolve({"dataset": "mnist", "model": "mlp", "conditional": True})
    assert cfg["condition"] == "projection" and cfg["lr"] == 5e-4
    assert cfg["steps"] == 6200 and cfg["epochs"] is None and cfg["ema"] == 0.999
    assert cfg["recipes"] == ["conditional on image-mlp: lr 0.0005, steps 6200, ema 0.999 - measured, "
                              "see benchmarks/QUALITY.md"]


def test_a_conditional_dcgan_gets_its_learning_rate_and_keeps_its_epochs():
    cfg = config.resolve({"dataset": "fashion-mnist", "model": "dcgan", "conditional": True})
    assert (cfg["lr"], cfg["epochs"], cfg["condition"]) == (5e-4, 5, "projection")
    assert cfg["recipes"] == ["conditional on image-dcgan: lr 0.0005 - measured, see benchmarks/QUALITY.md"]


def test_a_setting_given_wins_over_the_recipe_and_leaves_the_record():
    cfg = config.resolve({"dataset": "mnist", "model": "mlp", "conditional": True, "lr": 1e-3, "epochs": 3})
    assert cfg["lr"] == 1e-3 and cfg["epochs"] == 3 and cfg["steps"] is None
    # epochs given, so not the recipe's steps either: only its running average of G applies
    assert cfg["recipes"] == ["conditional on image-mlp: ema 0.999 - measured, see benchmarks/QUALITY.md"]
    cfg = config.resolve({"dataset": "mnist", "model": "mlp", "conditional": True, "lr": 1e-3})
    assert cfg["recipes"] == ["conditional on image-mlp: steps 6200, ema 0.999 - measured, see benchmarks/QUALITY.md"]


def test_the_loss_recipes_apply_on_any_data_and_unconditional_runs_get_none():
    cfg = config.resolve({"dataset": "mnist", "loss": "wgan-gp"})
    assert (cfg["gp_weight"], cfg["d_steps"], cfg["beta1"], cfg["beta2"], cfg["lr"]) == (10.0, 5, 0.0, 0.9, 1e-4)
    assert len(cfg["recipes"]) == 1 and cfg["recipes"][0].startswith("wgan-gp on any data: lr 0.0001")
    cfg = config.resolve({"dataset": "mnist", "loss": "wgan"})
    assert (cfg["optimizer"], cfg["clip"], cfg["d_steps"]) == ("rmsprop", 0.01, 5)
    assert config.resolve({"dataset": "ring8"})["recipes"] == []
    assert config.resolve({"dataset": "mnist", "model": "dcgan"})["recipes"] == []


def test_a_more_specific_row_wins_and_each_row_records_only_what_it_decided():
    cfg = config.resolve({"dataset": "ring8", "loss": "wgan-gp"})
    assert (cfg["lr"], cfg["beta1"], cfg["beta2"], cfg["gp_weight"], cfg["d_steps"], cfg["standardize"]) == (
        1e-3, 0.5, 0.9, 0.1, 5, True)
    assert cfg["recipes"] == [
        "wgan-gp on any data: beta2 0.9, d_steps 5 - Gulrajani et al. 2017",
        "wgan-gp on toy: lr 0.001, beta1 0.5, gp_weight 0.1, standardize True - the authors' toy settings "
        "(lambda 0.1, beta1 0.5, scaled data) at the toys' lr, measured"]
    cfg = config.resolve({"dataset": "ring8", "loss": "wgan-gp", "gp_weight": 10.0, "d_steps": 2})
    assert cfg["gp_weight"] == 10.0 and cfg["d_steps"] == 2 and cfg["lr"] == 1e-3
    assert cfg["recipes"][0] == "wgan-gp on any data: beta2 0.9 - Gulrajani et al. 2017"
    cfg = config.resolve({"dataset": "grid25", "loss": "wgan-gp"})  # the dataset's own row, last
    assert (cfg["z_dim"], cfg["d_steps"], cfg["steps"], cfg["epochs"], cfg["lr"]) == (8, 1, 20000, None, 1e-3)
    assert cfg["gp_weight"] == 1.0  # grid25's row wins lambda from the toys' 0.1
    assert [r.split(":")[0] for r in cfg["recipes"]] == ["wgan-gp on any data", "wgan-gp on toy", "wgan-gp on grid25"]


def test_the_recipe_is_recorded_in_config_json_and_said_in_the_header(tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(["--dataset", "ring8", "--loss", "wgan-gp", "--steps", "2", "--batch-size", "16",
                       "--out", str(out)]) == 0
    recorded = json.loads((out / "config.json").read_text())["recipes"]
    assert recorded == config.resolve({"dataset": "ring8", "loss": "wgan-gp"})["recipes"]
    assert f"minigan: recipe: {recorded[0]}" in capsys.readouterr().err


@pytest.mark.parametrize("given,message", [
    ({"dataset": "mnist", "condition": "concat"}, "`condition` concat says how D hears the label of a conditional"),
    ({"dataset": "mnist", "conditional": True, "condition": "film"}, "`condition` must be one of projection, concat"),
    ({"dataset": "mnist", "conditional": True, "pack": 2}, "`pack` > 1 and `condition` projection cannot be combined"),
])
def test_impossible_conditions_are_one_sentence(given, message):
    with pytest.raises(ValueError, match=message):
        config.resolve(given)


def test_the_condition_flag_reaches_the_models_and_an_old_conditional_run_stays_concat():
    for condition, projection in (("projection", True), ("concat", False)):
        cfg = config.resolve({"dataset": "mnist", "model": "dcgan", "width": 8, "conditional": True,
                              "condition": condition})
        gan = build_gan(cfg, (1, 28, 28), n_classes=10)
        assert isinstance(gan.D, models.ProjectionDiscriminator) is projection
    cfg.pop("condition")  # a config.json written before `condition` existed: it trained with concatenation
    assert not isinstance(build_gan(cfg, (1, 28, 28), n_classes=10).D, models.ProjectionDiscriminator)


def test_an_old_conditional_run_resumes_with_the_d_it_was_trained_with(tmp_path):
    import os

    data = os.environ.get("MINIGAN_DATA")
    if not data:
        pytest.skip("needs MINIGAN_DATA with the MNIST test files")
    out = tmp_path / "old"
    args = ["--quiet", "--dataset", "mnist", "--split", "test", "--data-dir", data, "--model", "mlp", "--width", "8",
            "--conditional", "--condition", "concat", "--steps", "2", "--batch-size", "16", "--out", str(out)]
    assert train.main(args) == 0
    cfg = json.loads((out / "config.json").read_text())
    del cfg["condition"], cfg["recipes"]  # as an earlier version wrote it
    (out / "config.json").write_text(json.dumps(cfg))
    assert train.main(["--quiet", "--resume", str(out), "--steps", "4"]) == 0
    assert not isinstance(Run.open(out).gan.D, models.ProjectionDiscriminator)


@pytest.mark.parametrize("loss,label", [("nonsaturating", "D(x) = P(real)"),
                                        ("wgan-gp", "sigmoid(critic score): higher = more real")])
def test_the_toy_field_says_what_its_colour_is(loss, label, tmp_path):
    """A critic's score is not a probability: the heatmap's colour bar must not call it P(real)."""
    cfg = config.resolve({"dataset": "ring8", "loss": loss, "steps": 1, "batch_size": 8, "out": str(tmp_path)})
    assert Run.start(cfg)._field_args()["label"] == label


# --------------------------------------------------------------------------- the README's family commands

ROOT = Path(__file__).resolve().parent.parent
TABLE_HEADING = "## The GAN family at its defaults: one table"


def _family_commands() -> list[str]:
    """The flags of each `python -m minigan.train` line in the README's family block (continuations joined)."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("The GAN family and how to measure it"):]
    block = block[block.index("```bash") + 7:block.index("```", block.index("```bash") + 7)]
    commands, pending = [], ""
    for line in block.splitlines():
        code = (pending + " " + line.split("#", 1)[0].strip()).strip() if pending else line.split("#", 1)[0].strip()
        pending = code[:-1].strip() if code.endswith("\\") else ""
        if not pending and code.startswith("python -m minigan.train"):
            commands.append(code[len("python -m minigan.train"):].strip())
    return commands


def _table_commands() -> list[str]:
    """The commands in the first column of QUALITY.md's one table of the family."""
    text = (ROOT / "benchmarks" / "QUALITY.md").read_text()
    section = text[text.index(TABLE_HEADING):]
    section = section[:section.find("\n## ", 1) if "\n## " in section[1:] else None]
    return re.findall(r"^\| `([^`]*)` \|", section, flags=re.M)


def test_the_readmes_family_commands_are_the_rows_of_the_one_table_and_each_resolves():
    readme, table = _family_commands(), _table_commands()
    assert len(readme) >= 10
    missing = [c for c in readme if c not in table]
    assert not missing, f"README family commands with no row in QUALITY.md's one table: {missing}"
    for flags in readme:
        cfg = config.resolve(train.settings(train.parse_args(shlex.split(flags))))
        assert cfg["dataset"] in flags or cfg["dataset"] == "mnist"


def test_r1_is_recorded_and_reaches_the_gan(tmp_path):
    out = tmp_path / "run"
    assert train.main(["--quiet", "--dataset", "ring8", "--r1", "0.5", "--steps", "2", "--batch-size", "16",
                       "--out", str(out)]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["r1"] == 0.5
    assert Run.open(out).gan.r1 == 0.5
    assert config.resolve({"dataset": "ring8"})["r1"] == 0.0
