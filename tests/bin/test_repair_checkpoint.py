"""repair_checkpoint: a training directory killed during ESPnet's in-place torch.save."""

import torch

from espnet2_jstar.bin.repair_checkpoint import main, repair


def write_run(d, epochs=3):
    """Epoch files 1..epochs and a checkpoint of the last epoch, as ESPnet's Trainer writes."""
    for e in range(1, epochs + 1):
        torch.save({"w": torch.full((3,), float(e))}, d / f"{e}epoch.pth")
    torch.save({"model": {"w": torch.full((3,), float(epochs))},
                "reporter": {"epoch": epochs, "stats": {}}}, d / "checkpoint.pth")
    (d / "latest.pth").symlink_to(f"{epochs}epoch.pth")


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_intact_directory_is_left_alone(tmp_path):
    write_run(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert repair(tmp_path) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_truncated_last_epoch_file_is_rewritten_from_the_checkpoint(tmp_path):
    write_run(tmp_path)
    truncate(tmp_path / "3epoch.pth")
    actions = repair(tmp_path)
    assert len(actions) == 1 and "3epoch.pth" in actions[0] and "rewritten" in actions[0]
    w = torch.load(tmp_path / "3epoch.pth", weights_only=False)["w"]
    assert torch.equal(w, torch.full((3,), 3.0))
    assert not list(tmp_path.glob("*.tmp"))


def test_truncated_checkpoint_and_other_epoch_files_are_removed(tmp_path, capsys):
    write_run(tmp_path)
    truncate(tmp_path / "checkpoint.pth")
    truncate(tmp_path / "1epoch.pth")
    assert main([str(tmp_path)]) == 0
    assert not (tmp_path / "checkpoint.pth").exists() and not (tmp_path / "1epoch.pth").exists()
    assert (tmp_path / "2epoch.pth").exists() and (tmp_path / "3epoch.pth").exists()
    err = capsys.readouterr().err
    assert "checkpoint.pth: unreadable" in err and "restarts from epoch 1" in err
    assert main([str(tmp_path / "missing")]) == 0
