"""Where learner code runs: the sandbox (bubblewrap, cgroups), the kernel launcher, the fork
server and warm kernels, and the client that talks to a kernel."""
