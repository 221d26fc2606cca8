"""What every serving process does once started."""

import pytest

from tests.platform.test_settings import PRODUCTION_ENV, SERVING_PROCESSES, clean_env, run_python


@pytest.mark.parametrize("start", SERVING_PROCESSES.values(), ids=SERVING_PROCESSES.keys())
def test_what_start_up_loaded_is_kept_out_of_the_collectors_full_passes(start):
    started = run_python(f"import gc\n{start}\nprint(gc.get_freeze_count())", clean_env(**PRODUCTION_ENV))
    assert started.returncode == 0, started.stderr
    assert int(started.stdout.split()[-1]) > 10_000  # Django, every context and their modules
