"""minigrad.backend.openmp_env: the OpenMP settings minigrad puts in the environment before its
first kernel loads, and that a user's own setting wins."""
import os
import subprocess
import sys

import pytest

CODE = ("import os, minigrad\n"
        "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'),"
        " os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")


def _import_with(**settings):
    env = {k: v for k, v in os.environ.items()
           if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")}
    env.update(settings)
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("settings, expected", [
    ({}, ["30000", "None", "4"]),                                     # a short spin by default
    ({"OMP_WAIT_POLICY": "PASSIVE"}, ["None", "PASSIVE", "4"]),       # the user's policy wins
    ({"GOMP_SPINCOUNT": "5", "OPENBLAS_THREAD_TIMEOUT": "7"}, ["5", "None", "7"]),
])
def test_settings_are_set_unless_the_user_set_them(settings, expected):
    assert _import_with(**settings) == expected
