"""Code that tries to harm the other submissions of its batch: put in front of an answer cell,
each takes more of the grading machine than its kernel's limits allow (memory, processes,
CPU). ``tests/test_robustness.py`` grades them in one batch with honest learners;
``benchmarks/bench_isolation.py`` times the honest learners beside the CPU hog.
"""

#: 896 MiB of files in the kernel's /tmp and /dev/shm, then eight children of 64 MiB each:
#: every process stays far below a 1 GiB address-space limit, together they go past it.
MEMORY_HOG = '''
import os, time
for folder in ("/tmp", "/dev/shm"):
    try:
        hoard = os.open(os.path.join(folder, "hoard"), os.O_CREAT | os.O_WRONLY)
        os.posix_fallocate(hoard, 0, 448 * 2**20)
    except OSError as error:
        print(folder, "is full:", error)
hoarders = []
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        hoard = [b"x" * (8 * 2**20) for _ in range(8)]
        time.sleep(10)
        os._exit(0)
    hoarders.append(pid)
for pid in hoarders:
    os.waitpid(pid, 0)
'''

#: A fork bomb: every process forks for ever.
PROCESS_HOG = '''
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
'''


def cpu_hog(processes: int = 64, seconds: float | None = None) -> str:
    """``processes`` processes that keep a CPU busy each until they are killed (or for
    ``seconds``), each in a session of its own: where Linux groups the processes of a session
    to share the CPUs fairly (its "autogroups"), each would be a group of its own."""
    until = "True" if seconds is None else f"time.monotonic() < {seconds} + started"
    return f'''
import os, time
started = time.monotonic()
for _ in range({processes}):
    if os.fork() == 0:
        os.setsid()
        while {until}:
            pass
        os._exit(0)
'''


CPU_HOG = cpu_hog()
