"""Supervised child processes: the stack's components (stack.run) and a component's workers
(workers) both run under one `Supervisor`, so it sits below both."""
