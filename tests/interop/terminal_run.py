"""Runs a slixmpp terminal until it reports an outcome, and exits with it (2 when it never does).

The terminal is made by `make_terminal` once the event loop is set, since slixmpp binds to the loop it finds."""
import asyncio
import sys


def run(make_terminal, host, port, seconds):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    terminal = make_terminal()

    async def wait():
        terminal.connect((host, int(port)))
        for _ in range(int(seconds / 0.05)):
            if terminal.outcome is not None:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        return 2 if terminal.outcome is None else terminal.outcome

    sys.exit(loop.run_until_complete(wait()))
