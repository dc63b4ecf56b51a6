// Watching a request's client (private to the service part). cpp-httplib 0.11 gives a handler no
// handle on its connection, so the connection is found among this process's sockets by its two
// addresses, then polled for a hang-up.
#pragma once
#include <string>

namespace codealign::service {

// The descriptor of the TCP connection between `local_port` here and the client at
// (`remote_addr`, `remote_port`), or -1.
int connection_socket(const std::string& remote_addr, int remote_port, int local_port);

// Whether the client closed its side (a request body it pipelines next is not a hang-up). A
// client that half-closes its socket after sending a request counts as gone: HTTP allows it,
// no HTTP library the RL stacks use does it.
bool peer_gone(int socket);

}  // namespace codealign::service
