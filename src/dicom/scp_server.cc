/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scp_server - the association server on DCMTK's ASC/DIMSE layer.  One
 * listener thread (dcm_scp_run) accepts on our own bound socket and
 * hands each connection to a thread of its own, which reads the whole
 * A-ASSOCIATE-RQ through the transport guard with no lock held (a cap
 * per source address on those still negotiating), then negotiates and
 * serves the association: C-ECHO here, C-STORE in scp_store.cc,
 * Query/Retrieve in scp_qr.cc when dcm_scp_params.qr_ops is set.  Knows
 * nothing of SQLite; decisions come through dcm_scp_ops and dcm_qr_ops.
 */
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/dul.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "core/log.h"
}
#include "dicom/dcmbridge.h"
#include "dicom/guard.h"
#include "dicom/qr.h"
#include "dicom/scp_qr.h"
#include "dicom/scp_store.h"

struct dcm_scp {
	std::string		 ae_title;
	int			 max_assoc;
	int			 max_pdu;
	int			 dimse_timeout;
	std::vector<std::string> sop_classes;
	const dcm_scp_ops	*ops;
	const dcm_qr_ops	*qr_ops;	/* NULL: no Query/Retrieve */
	void			*app;
	int			 listen_fd;
	T_ASC_Network		*net;
	std::atomic<bool>	 stop;
	int			 acse_timeout;
	pthread_mutex_t		 net_mu;	/* dcmExternalSocketHandle is global */
	pthread_mutex_t		 mu;
	pthread_cond_t		 idle;
	int			 active;	/* negotiated associations */
	std::map<std::string, std::list<int> > pending;	/* still negotiating */
	unsigned long		 evicted;	/* cut by SCP_PENDING_PER_HOST */
	int			 threads;	/* connection threads, incl. pending */
	scp_store_conf		 store;		/* what C-STORE needs */
};

/* Connections still sending their A-ASSOCIATE-RQ, beyond max_associations. */
#define SCP_PENDING_MAX	64

static const char *const echo_ts[] = {
	UID_LittleEndianExplicitTransferSyntax,
	UID_LittleEndianImplicitTransferSyntax,
};

static void
reject(T_ASC_Association *as, T_ASC_RejectParametersResult result,
    T_ASC_RejectParametersSource source, T_ASC_RejectParametersReason reason)
{
	T_ASC_RejectParameters rj = { result, source, reason };

	ASC_rejectAssociation(as, &rj);
}

static void
trim_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n;

	snprintf(dst, dstsz, "%s", src);
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
	while (dst[0] == ' ')
		memmove(dst, dst + 1, n--);
}

static bool
listed(const char *uid, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(uid, list[i]) == 0)
			return true;
	return false;
}

static bool
configured(const dcm_scp *scp, const char *uid)
{
	for (size_t k = 0; k < scp->sop_classes.size(); k++)
		if (scp->sop_classes[k] == uid)
			return true;
	return false;
}

/* proposals - what the requester asks for, before assoc_open decides. */
static void
proposals(const dcm_scp *scp, T_ASC_Association *as, dcm_assoc_info *ai)
{
	int n = ASC_countPresentationContexts(as->params);

	for (int i = 0; i < n; i++) {
		T_ASC_PresentationContext pc;

		if (ASC_getPresentationContext(as->params, i, &pc).bad())
			continue;
		if (strcmp(pc.abstractSyntax, UID_VerificationSOPClass) == 0)
			ai->wants_verification = 1;
		else if (scp->qr_ops != NULL && qr_sop_class(pc.abstractSyntax))
			ai->wants_qr = 1;
		else if (pc.proposedRole == ASC_SC_ROLE_SCP)
			ai->wants_qr = ai->wants_qr ||
			    dcmIsaStorageSOPClassUID(pc.abstractSyntax, ESSC_All);
		else
			ai->wants_store = 1;
	}
}

/*
 * negotiate - accept each proposed context whose abstract syntax we serve
 * and the verdict allows, with the first transfer syntax in the PEER's
 * order that we support: the peer lists what it holds first, so objects
 * arrive as sent, untranscoded.  Storage contexts proposed with the
 * requester as SCP (for C-GET) are accepted in that role for any storage
 * class when Query/Retrieve is allowed.
 */
static int
negotiate(dcm_scp *scp, T_ASC_Association *as, enum dcm_verdict verdict)
{
	int n = ASC_countPresentationContexts(as->params);
	bool store_ok = verdict == DCM_ACCEPT || verdict == DCM_ACCEPT_STORE;
	bool qr_ok = scp->qr_ops != NULL &&
	    (verdict == DCM_ACCEPT || verdict == DCM_ACCEPT_QR);

	for (int i = 0; i < n; i++) {
		T_ASC_PresentationContext pc;
		const char *const *ts;
		size_t nts;
		const char *chosen = NULL;
		bool known = false, allowed = true;
		T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT;

		if (ASC_getPresentationContext(as->params, i, &pc).bad())
			return -1;
		if (strcmp(pc.abstractSyntax, UID_VerificationSOPClass) == 0) {
			known = true;
			ts = echo_ts;
			nts = sizeof(echo_ts) / sizeof(echo_ts[0]);
		} else if (scp->qr_ops != NULL && qr_sop_class(pc.abstractSyntax)) {
			known = true;
			allowed = qr_ok;
			ts = echo_ts;
			nts = sizeof(echo_ts) / sizeof(echo_ts[0]);
		} else {
			bool scu = pc.proposedRole != ASC_SC_ROLE_SCP;
			bool scp_role = pc.proposedRole == ASC_SC_ROLE_SCP ||
			    pc.proposedRole == ASC_SC_ROLE_SCUSCP;
			bool can_get = qr_ok && scp_role &&
			    dcmIsaStorageSOPClassUID(pc.abstractSyntax, ESSC_All);
			bool can_store = store_ok && scu &&
			    configured(scp, pc.abstractSyntax);

			known = configured(scp, pc.abstractSyntax) || can_get;
			allowed = can_get || can_store;
			if (can_get && can_store)
				role = ASC_SC_ROLE_SCUSCP;
			else if (can_get)
				role = ASC_SC_ROLE_SCP;
			/* codecs.cc: every syntax there has a decoder */
			ts = dcm_store_syntaxes();
			for (nts = 0; ts[nts] != NULL; nts++)
				continue;
		}
		if (!known || !allowed) {
			log_debug("context %d: %s not accepted (%s)",
			    pc.presentationContextID, pc.abstractSyntax, known ?
			    "not allowed for this calling AE title" :
			    "SOP class not configured");
			ASC_refusePresentationContext(as->params,
			    pc.presentationContextID, known ? ASC_P_USERREJECTION :
			    ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
			continue;
		}
		for (int j = 0; j < pc.transferSyntaxCount && chosen == NULL; j++)
			if (listed(pc.proposedTransferSyntaxes[j], ts, nts))
				chosen = pc.proposedTransferSyntaxes[j];
		if (chosen == NULL) {
			log_debug("context %d: %s refused: no supported transfer "
			    "syntax proposed", pc.presentationContextID,
			    pc.abstractSyntax);
			ASC_refusePresentationContext(as->params,
			    pc.presentationContextID, ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
			continue;
		}
		if (ASC_acceptPresentationContext(as->params,
		    pc.presentationContextID, chosen, role).bad())
			return -1;
		guard_context((unsigned char)pc.presentationContextID, chosen);
	}
	return 0;
}

static void
serve(dcm_scp *scp, T_ASC_Association *as)
{
	dcm_assoc_info ai;
	enum dcm_verdict verdict = DCM_REJECT_TRANSIENT;
	char appctx[128];
	void *ctx;
	OFCondition c;

	memset(&ai, 0, sizeof(ai));
	trim_copy(ai.calling_ae, sizeof(ai.calling_ae), as->params->DULparams.callingAPTitle);
	trim_copy(ai.called_ae, sizeof(ai.called_ae), as->params->DULparams.calledAPTitle);
	snprintf(ai.peer, sizeof(ai.peer), "%s",
	    as->params->DULparams.callingPresentationAddress);
	ai.called_ok = scp->ae_title == ai.called_ae;
	proposals(scp, as, &ai);

	ctx = scp->ops->assoc_open(scp->app, &ai, &verdict);
	switch (verdict) {
	case DCM_ACCEPT:
	case DCM_ACCEPT_STORE:
	case DCM_ACCEPT_QR:
		break;
	case DCM_REJECT_CALLED:
		reject(as, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
		goto out;
	case DCM_REJECT_CALLING:
		reject(as, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
		goto out;
	default:
		reject(as, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_NOREASON);
		goto out;
	}
	if (ASC_getApplicationContextName(as->params, appctx, sizeof(appctx)).bad() ||
	    strcmp(appctx, UID_StandardApplicationContext) != 0) {
		log_warn("association from %s (%s): unsupported application "
		    "context", ai.calling_ae, ai.peer);
		reject(as, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
		    ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
		goto out;
	}
	if (negotiate(scp, as, verdict) == -1 || ASC_acknowledgeAssociation(as).bad()) {
		log_warn("association from %s (%s): negotiation failed",
		    ai.calling_ae, ai.peer);
		goto out;
	}
	log_info("association from %s (%s) to %s: %d of %d contexts accepted",
	    ai.calling_ae, ai.peer, ai.called_ae,
	    ASC_countAcceptedPresentationContexts(as->params),
	    ASC_countPresentationContexts(as->params));

	for (;;) {
		T_ASC_PresentationContextID pid;
		T_DIMSE_Message msg;

		c = DIMSE_receiveCommand(as, DIMSE_NONBLOCKING, scp->dimse_timeout,
		    &pid, &msg, NULL);
		if (c == DUL_PEERREQUESTEDRELEASE) {
			ASC_acknowledgeRelease(as);
			log_debug("association from %s released", ai.calling_ae);
			break;
		}
		if (c == DUL_PEERABORTEDASSOCIATION) {
			log_info("association from %s aborted by peer", ai.calling_ae);
			break;
		}
		if (c.bad()) {
			log_warn("association from %s (%s): %s; aborting",
			    ai.calling_ae, ai.peer, c.text());
			ASC_abortAssociation(as);
			break;
		}
		if (msg.CommandField == DIMSE_C_ECHO_RQ) {
			if (DIMSE_sendEchoResponse(as, pid, &msg.msg.CEchoRQ,
			    STATUS_Success, NULL).bad())
				break;
		} else if (msg.CommandField == DIMSE_C_STORE_RQ) {
			if (scp_store(scp->store, ctx, as, pid, msg.msg.CStoreRQ,
			    ai.calling_ae) == -1) {
				ASC_abortAssociation(as);
				break;
			}
		} else if (scp->qr_ops != NULL &&
		    (msg.CommandField == DIMSE_C_FIND_RQ ||
		    msg.CommandField == DIMSE_C_MOVE_RQ ||
		    msg.CommandField == DIMSE_C_GET_RQ)) {
			qr_assoc qa = { scp->qr_ops, ctx, scp->ae_title.c_str(),
			    ai.calling_ae, scp->acse_timeout, scp->dimse_timeout,
			    as };

			if (qr_serve(qa, pid, msg) == -1) {
				ASC_abortAssociation(as);
				break;
			}
		} else if (msg.CommandField == DIMSE_C_CANCEL_RQ) {
			/* PS3.7 9.3.2.3: a cancel for nothing in progress */
			log_debug("association from %s: C-CANCEL for message %u "
			    "ignored: nothing in progress", ai.calling_ae,
			    (unsigned)msg.msg.CCancelRQ.MessageIDBeingRespondedTo);
		} else {
			log_warn("association from %s: unsupported command 0x%04x; "
			    "aborting", ai.calling_ae, (unsigned)msg.CommandField);
			ASC_abortAssociation(as);
			break;
		}
	}
out:
	scp->ops->assoc_close(ctx);
}

struct conn_arg {
	dcm_scp	*scp;
	int	 fd;
};

/*
 * Connections still negotiating, per source address: past
 * SCP_PENDING_PER_HOST the oldest one from that address is cut, so one
 * host cannot fill the pending slots, while a new connection from it
 * (perhaps a legitimate one behind the same NAT) still gets its turn.
 * Under scp->mu.
 */
#define SCP_PENDING_PER_HOST	16	/* "more than 16" in the log below */

static void
pending_add(dcm_scp *scp, const std::string &host, int fd)
{
	std::list<int> &l = scp->pending[host];

	if (l.size() >= SCP_PENDING_PER_HOST) {
		/* the thread sees the shutdown, removes it and closes it */
		shutdown(l.front(), SHUT_RDWR);
		l.pop_front();
		scp->evicted++;
	}
	l.push_back(fd);
}

/* pending_remove - false when fd had been cut by pending_add */
static bool
pending_remove(dcm_scp *scp, const std::string &host, int fd)
{
	std::map<std::string, std::list<int> >::iterator it =
	    scp->pending.find(host);
	size_t n;

	if (it == scp->pending.end())
		return false;
	n = it->second.size();
	it->second.remove(fd);
	bool found = it->second.size() != n;
	if (it->second.empty())
		scp->pending.erase(it);
	return found;
}

static std::string
peer_host(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[INET6_ADDRSTRLEN] = "";

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, buf, sizeof(buf), NULL,
		    0, NI_NUMERICHOST);
	return buf;
}

static void
conn_done(dcm_scp *scp, int negotiated)
{
	pthread_mutex_lock(&scp->mu);
	if (negotiated)
		scp->active--;
	scp->threads--;
	pthread_cond_broadcast(&scp->idle);
	pthread_mutex_unlock(&scp->mu);
}

static void *
conn_thread(void *p)
{
	conn_arg *a = static_cast<conn_arg *>(p);
	dcm_scp *scp = a->scp;
	T_ASC_Association *as = NULL;
	int fd = a->fd, busy = 0;

	delete a;
	try {
		const char *why = "";
		std::string rq;

		std::string host = peer_host(fd);
		int rrc;

		/* The whole request, read here with no lock held, so a peer
		 * that sends half of one stalls only its own thread. */
		pthread_mutex_lock(&scp->mu);
		pending_add(scp, host, fd);
		pthread_mutex_unlock(&scp->mu);
		rrc = guard_read_rq(fd, scp->acse_timeout,
		    dcmAssociatePDUSizeLimit.get(), scp->stop, rq, &why);
		pthread_mutex_lock(&scp->mu);
		if (!pending_remove(scp, host, fd) && rrc == -1)
			why = "more than 16"
			    " connections from this host still negotiating; "
			    "the oldest is cut";
		pthread_mutex_unlock(&scp->mu);
		if (rrc == -1) {
			log_info("connection from %s dropped: %s", host.c_str(), why);
			close(fd);
			conn_done(scp, 0);
			return NULL;
		}
		pthread_mutex_lock(&scp->net_mu);
		dcmExternalSocketHandle.set(fd);
		guard_prefetched(&rq);
		OFCondition c = ASC_receiveAssociation(scp->net, &as,
		    scp->max_pdu, NULL, NULL, OFFalse, DUL_BLOCK, 0);
		guard_prefetched(NULL);
		dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
		pthread_mutex_unlock(&scp->net_mu);
		if (c.bad()) {
			log_warn("bad association request: %s", c.text());
			/* DCMTK owns fd once it was handed over. */
			if (as != NULL) {
				ASC_dropAssociation(as);
				ASC_destroyAssociation(&as);
			}
			conn_done(scp, 0);
			return NULL;
		}
		pthread_mutex_lock(&scp->mu);
		if (scp->active >= scp->max_assoc || scp->stop.load())
			busy = 1;
		else
			scp->active++;
		pthread_mutex_unlock(&scp->mu);
		if (busy) {
			log_warn("association from %s refused: %d associations "
			    "already (max_associations) or shutting down",
			    as->params->DULparams.callingAPTitle, scp->max_assoc);
			reject(as, ASC_RESULT_REJECTEDTRANSIENT,
			    ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
			    ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
		} else
			serve(scp, as);
	} catch (...) {
		log_err("association thread: unexpected C++ exception");
	}
	int negotiated = !busy && as != NULL;	/* before destroy NULLs as */

	if (as != NULL) {
		ASC_dropSCPAssociation(as);
		ASC_destroyAssociation(&as);
	}
	conn_done(scp, negotiated);
	return NULL;
}

static int
bind_listen(const char *addr, int port, char *err, size_t errsz)
{
	struct sockaddr_in sin;
	struct addrinfo hints, *res;
	int fd, one = 1, rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		if ((rc = getaddrinfo(addr, NULL, &hints, &res)) != 0) {
			snprintf(err, errsz, "listen address %s: %s", addr,
			    gai_strerror(rc));
			return -1;
		}
		sin.sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
		freeaddrinfo(res);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1) {
		snprintf(err, errsz, "listen on %s:%d: %s", addr, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

extern "C" struct dcm_scp *
dcm_scp_new(const struct dcm_scp_params *p, const struct dcm_scp_ops *ops,
    void *app, char *err, size_t errsz)
{
	dcm_scp *scp = NULL;

	try {
		scp = new dcm_scp;
		scp->ae_title = p->ae_title;
		scp->max_assoc = p->max_associations;
		scp->max_pdu = p->max_pdu;
		scp->dimse_timeout = p->dimse_timeout;
		scp->evicted = 0;
		for (const char *const *s = p->sop_classes; *s; s++)
			scp->sop_classes.push_back(*s);
		scp->ops = ops;
		scp->qr_ops = p->qr_ops;
		scp->app = app;
		scp->stop = false;
		scp->active = 0;
		scp->threads = 0;
		scp->acse_timeout = p->acse_timeout;
		scp->net = NULL;
		scp->store.ops = ops;
		scp->store.dimse_timeout = p->dimse_timeout;
		scp->store.max_instance_size = p->max_instance_size;
		if (p->qr_attrs != NULL)
			scp->store.qr_tags.assign(p->qr_attrs->tags,
			    p->qr_attrs->tags + (p->qr_attrs->n < DCM_QR_ATTRS_MAX ?
			    p->qr_attrs->n : DCM_QR_ATTRS_MAX));
		pthread_mutex_init(&scp->net_mu, NULL);
		pthread_mutex_init(&scp->mu, NULL);
		pthread_cond_init(&scp->idle, NULL);
		if ((scp->listen_fd = bind_listen(p->listen_addr, p->port, err, errsz)) == -1) {
			dcm_scp_free(scp);
			return NULL;
		}
		/*
		 * Handing DCMTK a socket makes it skip creating its own listener
		 * (which would bind every interface); each accepted connection
		 * is passed the same way in dcm_scp_run.
		 */
		dcmExternalSocketHandle.set(scp->listen_fd);
		OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, 0,
		    p->acse_timeout, &scp->net);
		dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
		if (c.bad()) {
			snprintf(err, errsz, "ASC_initializeNetwork: %s", c.text());
			dcm_scp_free(scp);
			return NULL;
		}
		if (guard_install(scp->net, scp->max_pdu, scp->dimse_timeout) == -1) {
			snprintf(err, errsz, "cannot install the transport guard");
			dcm_scp_free(scp);
			return NULL;
		}
		return scp;
	} catch (...) {
		snprintf(err, errsz, "dcm_scp_new: unexpected C++ exception");
		if (scp)
			dcm_scp_free(scp);
		return NULL;
	}
}

static void
spawn(dcm_scp *scp, int fd)
{
	pthread_attr_t attr;
	pthread_t tid;
	conn_arg *a = new conn_arg;
	sigset_t all, old;
	int rc;

	a->scp = scp;
	a->fd = fd;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals belong to main's sigwait. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&tid, &attr, conn_thread, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_err("cannot start a connection thread: %s", strerror(rc));
		close(fd);
		delete a;
		conn_done(scp, 0);
	}
}

extern "C" int
dcm_scp_run(struct dcm_scp *scp)
{
	try {
		while (!scp->stop.load()) {
			struct pollfd pfd = { scp->listen_fd, POLLIN, 0 };
			int fd, one = 1, full;

			if (poll(&pfd, 1, 500) <= 0)
				continue;
			fd = accept4(scp->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd == -1) {
				if (errno != EINTR && errno != EAGAIN &&
				    errno != ECONNABORTED)
					log_warn("accept: %s", strerror(errno));
				if (errno == EMFILE || errno == ENFILE)
					usleep(100000);
				continue;
			}
			/* Also set by DCMTK through $TCP_NODELAY; here it cannot be forgotten. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			pthread_mutex_lock(&scp->mu);
			full = scp->threads >= scp->max_assoc + SCP_PENDING_MAX;
			if (!full)
				scp->threads++;
			pthread_mutex_unlock(&scp->mu);
			if (full) {
				/* Too many silent connections to even read a request. */
				log_warn("connection dropped: %d connections open",
				    scp->max_assoc + SCP_PENDING_MAX);
				close(fd);
				continue;
			}
			spawn(scp, fd);
		}
		return 0;
	} catch (...) {
		log_err("listener: unexpected C++ exception");
		return -1;
	}
}

extern "C" void
dcm_scp_stop(struct dcm_scp *scp)
{
	scp->stop.store(true);
}

extern "C" int
dcm_scp_active(struct dcm_scp *scp)
{
	int n;

	pthread_mutex_lock(&scp->mu);
	n = scp->active;
	pthread_mutex_unlock(&scp->mu);
	return n;
}

extern "C" int
dcm_scp_drain(struct dcm_scp *scp, int timeout_s)
{
	struct timespec until;
	int n;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&scp->mu);
	while (scp->threads > 0 &&
	    pthread_cond_timedwait(&scp->idle, &scp->mu, &until) == 0)
		;
	n = scp->threads;
	pthread_mutex_unlock(&scp->mu);
	return n;
}

extern "C" void
dcm_scp_free(struct dcm_scp *scp)
{
	if (scp == NULL)
		return;
	try {
		/* Threads still serving keep using scp: leak it rather than race. */
		pthread_mutex_lock(&scp->mu);
		int n = scp->threads;
		pthread_mutex_unlock(&scp->mu);
		if (n > 0)
			return;
		if (scp->net != NULL)
			ASC_dropNetwork(&scp->net);
		if (scp->listen_fd >= 0)
			close(scp->listen_fd);
		pthread_mutex_destroy(&scp->net_mu);
		pthread_mutex_destroy(&scp->mu);
		pthread_cond_destroy(&scp->idle);
		delete scp;
	} catch (...) {
	}
}
