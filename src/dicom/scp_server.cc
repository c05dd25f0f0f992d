// SPDX-License-Identifier: GPL-2.0-or-later
// scp_server - the association server (filled by the split of scp_store.cc).
