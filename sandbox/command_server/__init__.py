"""The command server: the sandbox's libraries loaded once, each command a fork of them.

Switched on with `SANDBOX_COMMAND_SERVER=true`. The first command starts a server in the
background and runs as usual; the commands after it (same user, code and environment) run in
a fork of the server, the libraries already loaded, with their caller's streams, working
folder, environment and file mask. The server exits `SANDBOX_COMMAND_SERVER_IDLE_S` after its
last command.

address.py   where the server listens: a private folder, a name that digests code and environment
protocol.py  the request (arguments, environment, mask; streams attached) and the two answers
client.py    a command's side: hand the command over and relay signals, or start a server
server.py    the server: preload, accept, fork, reap, answer exit codes, end when idle
child.py     the forked process: take on the caller's streams, folder and environment, run
"""
