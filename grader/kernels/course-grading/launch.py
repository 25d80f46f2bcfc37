"""Starts a grading kernel: ``python -S launch.py -f CONNECTION_FILE`` (see kernel.json and
``grader/kernel/kernel_launch.py``). Without ``site``, the ``grader`` package is found from here.

The lean launcher confines this process and hands the kernel to the slot's warm fork server;
only when it cannot does this script load ``site`` and the sandbox (100 ms more) to start the
kernel cold."""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.realpath(__file__)))))  # the folder that holds grader/, not this one

from grader.kernel.kernel_launch import main  # noqa: E402

connection_file = main(sys.argv[1:])  # a warm kernel ran: the process has exited already

import site  # noqa: E402

site.main()  # what -S skipped: the cold start binds the environment (sys.prefix) in bwrap

from grader.kernel.sandbox import launch_cold  # noqa: E402

launch_cold(connection_file)
