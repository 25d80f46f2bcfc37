"""Starts a grading kernel: ``python -S launch.py -f CONNECTION_FILE`` (see kernel.json and
``grader/kernel/kernel_launch.py``). Without ``site``, the ``grader`` package is found from here."""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__)))))  # the folder that holds grader/, not this one

from grader.kernel.kernel_launch import main  # noqa: E402

main(sys.argv[1:])
