"""One GPU per worker process: slots claimed once each, and the device each slot gets."""

from __future__ import annotations

import pytest

from engine.worker.devices import claim_slot, device_for, pinned_device, too_few_devices


def test_each_process_claims_a_different_slot_and_a_third_finds_none(tmp_path):
    assert [claim_slot(tmp_path, processes=2), claim_slot(tmp_path, processes=2)] == [0, 1]
    with pytest.raises(RuntimeError, match="all 2 worker slots"):
        claim_slot(tmp_path, processes=2)


def test_slot_i_gets_the_ith_visible_gpu_or_gpu_i_when_none_are_listed():
    assert [device_for(slot=s, processes=2, visible="4, 5") for s in (0, 1)] == ["4", "5"]
    assert [device_for(slot=s, processes=3, visible=None) for s in (0, 1, 2)] == ["0", "1", "2"]
    assert device_for(slot=0, processes=1, visible="4,5") is None  # one process: left as it is


def test_more_processes_than_listed_gpus_is_refused_in_one_line():
    assert too_few_devices(processes=3, visible="0,1") == (
        "--processes 3 needs one GPU per process, but CUDA_VISIBLE_DEVICES='0,1' lists 2")
    assert too_few_devices(processes=2, visible="0,1") is None
    assert too_few_devices(processes=4, visible=None) is None  # nothing listed: GPUs 0..3
    assert too_few_devices(processes=1, visible="") is None


def test_a_pinned_cuda_index_is_refused_with_several_processes_and_kept_with_one():
    assert "UGEN_DEVICE=cuda:1 cannot apply" in pinned_device(processes=2, device="cuda:1")
    assert pinned_device(processes=2, device="cuda") is None and pinned_device(processes=2, device=None) is None
    assert pinned_device(processes=1, device="cuda:1") is None
