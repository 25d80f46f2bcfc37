"""The grading kernel's client and manager: no fixed waits at a kernel's start or stop.

**Start.** jupyter_client's ``wait_for_ready`` sends ``kernel_info_request`` until a reply
comes, then waits for 0.2 s of silence on IOPub before it returns: 0.2 s or more of every
kernel start, a good part of a warm kernel's (``benchmarks/bench_submit.py`` prints the
stage). Grading reads only the messages that answer its own requests (nbclient matches each to
the cell it runs), so this client is ready at the first sign that both channels are connected:
the reply on the shell channel, and the ``idle`` status of the same request on IOPub. A
request whose ``idle`` went out before IOPub was connected is sent again, as jupyter_client
does. Its sockets retry connecting every 10 ms, not ZeroMQ's 100: a client connects as soon as
the kernel is launched, usually before the kernel has bound its sockets, and the default
interval added up to 0.1 s (0.2 s when one retry was not enough) to each start.

**Stop.** jupyter_client kills a kernel, then checks every 0.1 s whether it is gone: the first
check comes before the kill has taken effect, so each stop waits 0.1 s, with nothing else to
do in that grading slot. :class:`QuickStopKernelManager` checks every 5 ms.

**Where the kernel comes from.** :class:`QuickStopKernelManager` finds the ``course-grading``
kernelspec in ``grader/kernels/`` (no ``JUPYTER_PATH`` to change), and starts the kernel with
the grading process's environment plus ``QuickStopKernelManager.environment``: the settings a
kernel's launcher reads (``Settings.environment()``, set in the course's nbgrader
configuration).

Configured in ``grader/nbgrader_config.py`` (``AsyncKernelManager.client_factory``,
``Execute.kernel_manager_class``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from queue import Empty

import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_path
from traitlets import Dict, default

#: The course's kernelspecs (``course-grading``), looked up before Jupyter's own folders.
KERNELS = Path(__file__).resolve().parent.parent / "kernels"

#: How long one ``kernel_info_request``'s answer is waited for before the request is sent
#: again, on the shell channel (which queues requests until the kernel is up) and on IOPub
#: (which loses what the kernel published before the client's subscription connected).
SHELL_ROUND, IOPUB_ROUND = 1.0, 0.1
#: How soon a client's socket retries connecting to a kernel not yet listening (ms).
RECONNECT_MS = 10


class ReadyClient(AsyncKernelClient):
    """:class:`AsyncKernelClient` whose ``wait_for_ready`` waits for no silence, and whose
    sockets retry connecting every :data:`RECONNECT_MS`."""

    def _context_default(self) -> zmq.asyncio.Context:
        context = super()._context_default()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)  # for each socket made from it
        return context

    async def _wait_for(self, channel, message_id: str, until: float, status: str | None = None):
        """The next message on ``channel`` that answers ``message_id`` (with this execution
        ``status``, when given) before ``until`` (``time.monotonic()``); None if none came."""
        while (left := until - time.monotonic()) > 0:
            try:
                message = await channel.get_msg(timeout=left)
            except Empty:
                return None
            if message["parent_header"].get("msg_id") != message_id:
                continue
            if status is None or message["content"].get("execution_state") == status:
                return message
        return None

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            until = min(deadline, time.monotonic() + SHELL_ROUND)
            reply = await self._wait_for(self.shell_channel, request, until)
            if reply is not None:
                until = min(deadline, time.monotonic() + IOPUB_ROUND)
                if await self._wait_for(self.iopub_channel, request, until, "idle"):
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class QuickStopKernelManager(AsyncKernelManager):
    """:class:`AsyncKernelManager` that sees a killed kernel gone within 5 ms, not 100, finds
    the course's kernelspecs, and hands each kernel :attr:`environment`."""

    environment = Dict(
        {}, help="Environment variables every kernel gets besides the grading process's: the "
        "course's settings for the kernel's launcher (Settings.environment()).").tag(config=True)

    @default("kernel_spec_manager")
    def _course_kernel_specs(self) -> KernelSpecManager:
        return KernelSpecManager(data_dir=self.data_dir,
                                 kernel_dirs=[str(KERNELS), *jupyter_path("kernels")])

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = {**kw.get("env", os.environ), **self.environment}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))
