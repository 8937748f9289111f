#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal (as a user's terminal: stdin and stdout are a TTY) and
answers its questions: each EXPECT=ANSWER pair waits until EXPECT appears in what the command
printed, then types ANSWER and Enter. Prints everything the command printed; exits with its
exit code (1 with a message when an expected text never came before it ended).

  pty-answer.py 'Does it print=y' -- node dist/bin/labgen.js up
"""
import os
import pty
import select
import sys


def main() -> int:
    sep = sys.argv.index('--')
    pairs = [a.split('=', 1) for a in sys.argv[1:sep]]
    command = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen = b''
    asked = 0  # where the text after the last answer starts
    while True:
        ready, _, _ = select.select([fd], [], [], 600)
        if not ready:
            sys.stdout.write(seen.decode(errors='replace'))
            print(f'\npty-answer: nothing printed for 600 s, still waiting for {pairs[0][0] if pairs else "the end"!r}')
            os.kill(pid, 9)
            return 1
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the command ended: the pty's other side is closed
            break
        if not chunk:
            break
        seen += chunk
        if pairs and pairs[0][0].encode() in seen[asked:]:
            os.write(fd, pairs.pop(0)[1].encode() + b'\r')
            asked = len(seen)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors='replace'))
    if pairs:
        print(f'\npty-answer: the command ended before asking {pairs[0][0]!r}')
        return 1
    return os.waitstatus_to_exitcode(status)


sys.exit(main())
