"""UCF101 and HMDB51 split readers on small trees in the published layouts, with the
real files' quirks, and the group-wise hold-out."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from transinv.datasets.video_splits import (
    HMDB51_LAYOUT,
    HMDB51_SPLIT_DIR,
    UCF101_LAYOUT,
    VideoLayoutError,
    VideoListError,
    VideoSample,
    hold_out_groups,
    read_hmdb51,
    read_split,
    read_ucf101,
    videos_digest,
)

UCF_CLASSES = ("ApplyEyeMakeup", "HandstandPushups", "YoYo")
#: The real HandstandPushups videos are named with a capital S.
UCF_FILE_CLASS = {"HandstandPushups": "HandStandPushups"}


def _crlf(path: Path, lines: list[str], trailer: str = "\r\n \r\n\r\n") -> None:
    """A list file as the published ones are: CRLF, with trailing blanks and blank lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + trailer).encode())


def _ucf_path(name: str, group: int, clip: int) -> str:
    stem = UCF_FILE_CLASS.get(name, name)
    return f"{name}/v_{stem}_g{group:02d}_c{clip:02d}.avi"


def ucf101_tree(root: Path, groups: int = 4, clips: int = 2, test_groups: int = 1) -> Path:
    """Placeholder videos in UCF101's layout; groups 1..test_groups are the test list."""
    train, test = [], []
    for label, name in enumerate(UCF_CLASSES, start=1):
        for group in range(1, groups + 1):
            for clip in range(1, clips + 1):
                relative = _ucf_path(name, group, clip)
                video = root / "UCF-101" / relative
                video.parent.mkdir(parents=True, exist_ok=True)
                video.write_bytes(b"placeholder")
                if group <= test_groups:
                    test.append(relative)
                else:
                    train.append(f"{relative} {label} ")
    lists = root / "ucfTrainTestlist"
    _crlf(lists / "classInd.txt", [f"{i} {n}" for i, n in enumerate(UCF_CLASSES, start=1)])
    _crlf(lists / "trainlist01.txt", train)
    _crlf(lists / "testlist01.txt", test)
    return root


HMDB_FILES = {
    "brush_hair": [
        ("April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 1),
        ("April_09_brush_hair_u_nm_np1_ba_goo_1.avi", 1),
        ("Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0.avi", 2),
        ("Aussie_Brush_Hair_brush_hair_u_nm_np2_fr_med_0.avi", 0),
        ("Blonde_hair_brush_hair_f_cm_np1_fr_goo_2.avi", 1),
    ],
    "kiss": [
        ("Kiss_Me_kiss_h_nm_np2_fr_goo_0.avi", 1),
        ("Kiss_Me_kiss_h_nm_np2_fr_goo_1.avi", 1),
        ("prelinger_kiss_u_cm_np2_fr_bad_3.avi", 2),
        ("oddname.avi", 2),
    ],
    "cartwheel": [
        ("Bodenturnen_cartwheel_f_cm_np1_le_med_0.avi", 1),
        ("Cartwheel_Fail_cartwheel_f_cm_np1_ri_bad_1.avi", 2),
    ],
}


def hmdb51_tree(root: Path, *, in_root: bool = False, split: int = 1) -> Path:
    """Placeholder videos in HMDB51's layout, split files in the official archive's
    folder (or directly in ``root``), with the real files' trailing blank."""
    splits = root if in_root else root / HMDB51_SPLIT_DIR
    for name, files in HMDB_FILES.items():
        for video, _ in files:
            (root / name).mkdir(parents=True, exist_ok=True)
            (root / name / video).write_bytes(b"placeholder")
        _crlf(splits / f"{name}_test_split{split}.txt", [f"{v} {code} " for v, code in files])
    return root


def test_ucf101_reads_lists_labels_and_groups(tmp_path: Path) -> None:
    split = read_ucf101(ucf101_tree(tmp_path), 1)
    assert split.dataset == "ucf101"
    assert split.split == 1
    assert split.classes == UCF_CLASSES
    assert split.video_root == tmp_path / "UCF-101"
    assert len(split.train) == 3 * 3 * 2
    assert len(split.test) == 3 * 1 * 2
    assert {s.group for s in split.train} == {"g02", "g03", "g04"}
    assert {s.group for s in split.test} == {"g01"}
    assert Counter(s.label for s in split.test) == {0: 2, 1: 2, 2: 2}
    quirk = VideoSample("HandstandPushups/v_HandStandPushups_g03_c02.avi", 1, "g03")
    assert quirk in split.train
    assert all((split.video_root / s.path).is_file() for s in (*split.train, *split.test))
    assert read_split("ucf101", tmp_path, 1) == split


def test_ucf101_class_comes_from_the_folder_and_is_case_sensitive(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    testlist = root / "ucfTrainTestlist" / "testlist01.txt"
    text = testlist.read_text().replace("HandstandPushups/", "HandStandPushups/", 1)
    testlist.write_text(text)
    with pytest.raises(VideoListError, match=r"'HandStandPushups', which classInd\.txt"):
        read_ucf101(root, 1)


def test_ucf101_missing_list_names_path_layout_and_fix(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    (root / "ucfTrainTestlist" / "testlist01.txt").unlink()
    with pytest.raises(VideoLayoutError) as caught:
        read_ucf101(root, 1)
    message = str(caught.value)
    assert str(root / "ucfTrainTestlist" / "testlist01.txt") in message
    assert UCF101_LAYOUT in message
    assert "put the dataset there or set `action_recognition.ucf101_root`" in message
    with pytest.raises(VideoLayoutError, match="trainlist02"):
        read_ucf101(root, 2)
    with pytest.raises(VideoLayoutError, match="video folder"):
        read_ucf101(tmp_path / "elsewhere", 1)


def test_ucf101_missing_videos_are_counted_and_named(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    gone = [_ucf_path("YoYo", 3, 1), _ucf_path("YoYo", 4, 2), _ucf_path("ApplyEyeMakeup", 1, 1)]
    for relative in gone:
        (root / "UCF-101" / relative).unlink()
    with pytest.raises(VideoLayoutError) as caught:
        read_ucf101(root, 1)
    message = str(caught.value)
    assert "name 24 videos, 3 of them missing" in message
    assert all(relative in message for relative in gone)
    assert UCF101_LAYOUT in message


def test_ucf101_train_label_must_match_its_folder(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    trainlist = root / "ucfTrainTestlist" / "trainlist01.txt"
    lines = trainlist.read_bytes().decode().split("\r\n")
    lines[0] = lines[0].replace(" 1 ", " 2 ")
    trainlist.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(VideoListError, match=r"is labelled 2, but its folder 'ApplyEyeMakeup'"):
        read_ucf101(root, 1)


def test_ucf101_refuses_a_video_in_both_lists(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    testlist = root / "ucfTrainTestlist" / "testlist01.txt"
    testlist.write_text(testlist.read_text() + _ucf_path("YoYo", 2, 1) + "\n")
    with pytest.raises(VideoListError, match="twice"):
        read_ucf101(root, 1)


def test_hmdb51_reads_codes_classes_and_movie_groups(tmp_path: Path) -> None:
    split = read_hmdb51(hmdb51_tree(tmp_path), 1)
    assert split.dataset == "hmdb51"
    assert split.classes == ("brush_hair", "cartwheel", "kiss")
    assert split.video_root == tmp_path
    assert len(split.train) == 6
    assert len(split.test) == 4
    unused = "brush_hair/Aussie_Brush_Hair_brush_hair_u_nm_np2_fr_med_0.avi"
    assert unused not in {s.path for s in (*split.train, *split.test)}
    groups = {s.path: (s.label, s.group) for s in (*split.train, *split.test)}
    assert groups["brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi"] == (0, "April_09")
    assert groups["kiss/Kiss_Me_kiss_h_nm_np2_fr_goo_0.avi"] == (2, "Kiss_Me")
    assert groups["kiss/oddname.avi"] == (2, "oddname")
    assert groups["cartwheel/Cartwheel_Fail_cartwheel_f_cm_np1_ri_bad_1.avi"] == (
        1,
        "Cartwheel_Fail",
    )
    assert read_split("hmdb51", tmp_path, 1) == split


def test_hmdb51_split_files_may_lie_in_the_root(tmp_path: Path) -> None:
    split = read_hmdb51(hmdb51_tree(tmp_path, in_root=True, split=2), 2)
    assert (len(split.train), len(split.test)) == (6, 4)


def test_hmdb51_missing_split_files_and_videos(tmp_path: Path) -> None:
    root = hmdb51_tree(tmp_path)
    with pytest.raises(VideoLayoutError) as caught:
        read_hmdb51(root, 3)
    message = str(caught.value)
    assert "_test_split3.txt" in message
    assert HMDB51_LAYOUT in message
    assert "action_recognition.hmdb51_root" in message
    (root / "kiss" / "oddname.avi").unlink()
    with pytest.raises(
        VideoLayoutError, match=r"name 10 videos, 1 of them missing .*kiss/oddname\.avi"
    ):
        read_hmdb51(root, 1)


def test_hmdb51_rejects_an_unknown_code(tmp_path: Path) -> None:
    root = hmdb51_tree(tmp_path)
    _crlf(
        root / HMDB51_SPLIT_DIR / "kiss_test_split1.txt", ["Kiss_Me_kiss_h_nm_np2_fr_goo_0.avi 4"]
    )
    with pytest.raises(VideoListError, match=re.escape("'<video>.avi <0|1|2>'")):
        read_hmdb51(root, 1)


def test_read_split_names_the_valid_datasets(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hmdb51, ucf101"):
        read_split("kinetics", tmp_path, 1)
    with pytest.raises(ValueError, match="official splits"):
        read_ucf101(tmp_path, 4)


def test_videos_digest_follows_paths_and_sizes(tmp_path: Path) -> None:
    root = ucf101_tree(tmp_path)
    before = videos_digest(read_ucf101(root, 1))
    assert videos_digest(read_ucf101(root, 1)) == before
    (root / "UCF-101" / _ucf_path("YoYo", 2, 2)).write_bytes(b"another video")
    assert videos_digest(read_ucf101(root, 1)) != before


def _samples(groups_per_class: dict[int, list[int]]) -> tuple[VideoSample, ...]:
    """Per class, as many clips in each group as its list of sizes says; the classes'
    clips interleaved, as a list file need not order them."""
    samples = [
        VideoSample(f"c{label}/v_g{group:02d}_c{clip:02d}.avi", label, f"g{group:02d}")
        for label, sizes in groups_per_class.items()
        for group, size in enumerate(sizes, start=1)
        for clip in range(1, size + 1)
    ]
    return tuple(sorted(samples, key=lambda s: s.path[::-1]))


def test_hold_out_groups_keeps_groups_whole_and_respects_the_fraction() -> None:
    samples = _samples({0: [4] * 25, 1: [3, 5, 4, 6, 2, 4, 5, 3, 4, 4], 2: [7, 2], 3: [5]})
    kept, held = hold_out_groups(samples, 0.2, seed=7)
    assert len(kept) + len(held) == len(samples)
    assert set(kept).isdisjoint(held)
    assert list(kept) == [s for s in samples if s in set(kept)]
    assert list(held) == [s for s in samples if s in set(held)]
    kept_groups = {(s.label, s.group) for s in kept}
    held_groups = {(s.label, s.group) for s in held}
    assert kept_groups.isdisjoint(held_groups)
    total = Counter(s.label for s in samples)
    out = Counter(s.label for s in held)
    assert out[0] == 20  # 5 of 25 equal groups
    assert 0.1 <= out[1] / total[1] <= 0.3
    assert out[2] > 0  # two groups: one is held out, however large
    assert out[3] == 0  # one group: nothing to hold out
    assert {g for label, g in kept_groups if label == 2}  # never every group


def test_hold_out_groups_is_deterministic() -> None:
    samples = _samples({0: [2] * 12, 1: [3] * 9})
    first = hold_out_groups(samples, 0.25, seed=1)
    assert hold_out_groups(samples, 0.25, seed=1) == first
    others = {hold_out_groups(samples, 0.25, seed=s)[1] for s in range(2, 8)}
    assert any(held != first[1] for held in others)
    with pytest.raises(ValueError, match="between 0 and 1"):
        hold_out_groups(samples, 1.0, seed=1)
