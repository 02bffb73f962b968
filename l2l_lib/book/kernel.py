"""The kernel manager of chapter reruns: a kernel that prints nothing the user cannot act on.

With jupyter_client's default :class:`~jupyter_client.manager.AsyncKernelManager` every rerun printed
two lines that are no fault of the user's and that the user can do nothing about:

* ``[IPKernelApp] WARNING | Kernel is running over TCP without encryption`` (ipykernel's
  ``kernelapp.init_sockets``): the kernel talked to papermill over TCP on 127.0.0.1. Here it talks
  over IPC (Unix domain sockets, files in Jupyter's runtime folder that only this user can open), as
  the warning itself advises; Windows, where IPC is not available, and a runtime folder too deep for a
  socket's path keep TCP.
* ``KeyboardInterrupt caught in kernel`` (ipykernel's ``kernelbase``): to shut a kernel down,
  jupyter_client first *interrupts* it (SIGINT), then sends a ``shutdown_request``. A chapter has
  finished by then, so the interrupt has nothing to stop; when it lands while the kernel is still
  handling a message it is logged as an error. Here shutdown skips the interrupt: the
  ``shutdown_request`` stops an idle kernel, and a kernel that does not stop is still terminated, then
  killed, by jupyter_client (``shutdown_wait_time``). Interrupts at other times (a cell timeout) are
  sent as before.
"""

from __future__ import annotations

import os

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import CaselessStrEnum, default

__all__ = ["QuietKernelManager"]

#: Bytes of ``/kernel-<uuid>-ipc-<n>`` after the runtime folder in an IPC socket's path.
_SOCKET_NAME_BYTES = len("/kernel-00000000-0000-0000-0000-000000000000-ipc-5")


class QuietKernelManager(AsyncKernelManager):
    """An :class:`~jupyter_client.manager.AsyncKernelManager` over IPC that does not interrupt on shutdown.

    Pass it to nbclient (and so to papermill) as ``kernel_manager_class``.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], config=True, help="ZeroMQ transport: IPC where it works")

    @default("transport")
    def _default_transport(self) -> str:
        if os.name != "posix":
            return "tcp"
        # The sockets are files <runtime>/kernel-<36-character id>-ipc-<n>, and a Unix socket's path may
        # have 103 bytes at most (macOS; Linux allows 107): a deep runtime folder has to stay on TCP.
        return "ipc" if len(os.fsencode(jupyter_runtime_dir())) + _SOCKET_NAME_BYTES <= 103 else "tcp"

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client's shutdown sets `shutting_down`, then interrupts, then requests the shutdown.
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()
