/*
 * One fan-out batch: the same (or a few) RTP payloads to many subscribers sharing a UDP
 * socket. For each entry: write the subscriber's RTP header and the payload into that
 * entry's slot, protect it in place with libsrtp, then send every protected slot with
 * sendmmsg (one system call per run of entries on the same socket).
 *
 * libsrtp is not linked here: the caller passes the address of srtp_protect taken from
 * pylibsrtp's own binding, and each destination's srtp_t session, so the one copy of
 * libsrtp that aiortc keyed is the one that protects.
 *
 * Declarations shared with Python (cdef) live in build.py; keep both in step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* How many messages one sendmmsg call carries at most (the kernel allows UIO_MAXIOV). */
#define VB_RUN 64

typedef int (*vb_protect_fn)(void *session, void *packet, int *length);

struct vb_dest {
    void *session;               /* the subscriber's srtp_t */
    struct sockaddr_in address;  /* where its media goes */
};

struct vb_entry {
    uint64_t dest;               /* struct vb_dest * */
    uint64_t payload;            /* const uint8_t *, kept alive by the caller */
    int32_t fd;                  /* the socket to send on (-1: closed) */
    uint32_t ssrc;
    uint32_t timestamp;
    uint16_t payload_length;
    uint16_t sequence;
    uint8_t first_byte;          /* 0x80: version 2, no padding, extension or CSRC */
    uint8_t second_byte;         /* marker bit and payload type */
    uint8_t status;              /* out: VB_SENT, VB_FAILED or VB_UNSENT */
    uint8_t reserved;
};

enum { VB_SENT = 0, VB_FAILED = 1, VB_UNSENT = 2 };

static void put16(uint8_t *at, uint16_t value)
{
    at[0] = (uint8_t)(value >> 8);
    at[1] = (uint8_t)value;
}

static void put32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)(value >> 24);
    at[1] = (uint8_t)(value >> 16);
    at[2] = (uint8_t)(value >> 8);
    at[3] = (uint8_t)value;
}

/*
 * Returns how many entries were left unsent because their socket would block; *failed
 * counts those that could not be protected or sent for another reason (dropped, as the
 * one-packet path drops them). Every entry's status says which.
 */
int vb_fan_out(uintptr_t protect_address, struct vb_entry *entries, int count,
               uint8_t *slots, int slot_size, int *failed)
{
    vb_protect_fn protect = (vb_protect_fn)protect_address;
    struct mmsghdr messages[VB_RUN];
    struct iovec vectors[VB_RUN];
    int indexes[VB_RUN];
    int blocked_fd = -2;
    int unsent = 0;
    *failed = 0;

    for (int i = 0; i < count; i++)
        entries[i].status = VB_UNSENT;

    int next = 0;
    while (next < count) {
        int fd = entries[next].fd;
        int run = 0;
        int i = next;
        /* A run: consecutive entries on one socket, protected into their slots. */
        for (; i < count && run < VB_RUN && entries[i].fd == fd; i++) {
            struct vb_entry *entry = &entries[i];
            if (fd == blocked_fd)
                continue; /* this socket already said it would block */
            struct vb_dest *dest = (struct vb_dest *)(uintptr_t)entry->dest;
            uint8_t *slot = slots + (size_t)i * (size_t)slot_size;
            slot[0] = entry->first_byte;
            slot[1] = entry->second_byte;
            put16(slot + 2, entry->sequence);
            put32(slot + 4, entry->timestamp);
            put32(slot + 8, entry->ssrc);
            memcpy(slot + 12, (const void *)(uintptr_t)entry->payload, entry->payload_length);
            int length = 12 + entry->payload_length;
            if (protect(dest->session, slot, &length) != 0) {
                entry->status = VB_FAILED;
                (*failed)++;
                continue;
            }
            vectors[run].iov_base = slot;
            vectors[run].iov_len = (size_t)length;
            memset(&messages[run].msg_hdr, 0, sizeof(messages[run].msg_hdr));
            messages[run].msg_hdr.msg_name = &dest->address;
            messages[run].msg_hdr.msg_namelen = sizeof(dest->address);
            messages[run].msg_hdr.msg_iov = &vectors[run];
            messages[run].msg_hdr.msg_iovlen = 1;
            indexes[run] = i;
            run++;
        }
        next = i;
        /* Send the run; an error other than "would block" drops one packet and goes on. */
        int done = 0;
        while (done < run) {
            int sent = sendmmsg(fd, messages + done, (unsigned int)(run - done), MSG_DONTWAIT);
            if (sent > 0) {
                for (int k = done; k < done + sent; k++)
                    entries[indexes[k]].status = VB_SENT;
                done += sent;
            } else if (sent < 0 && errno == EINTR) {
                continue;
            } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                blocked_fd = fd;
                break;
            } else {
                entries[indexes[done]].status = VB_FAILED;
                (*failed)++;
                done++;
            }
        }
    }
    for (int i = 0; i < count; i++)
        unsent += entries[i].status == VB_UNSENT;
    return unsent;
}

/* Fills a destination: an srtp_t session and an IPv4 address (host byte order). */
void vb_set_dest(struct vb_dest *dest, void *session, uint32_t address, uint16_t port)
{
    memset(dest, 0, sizeof(*dest));
    dest->session = session;
    dest->address.sin_family = AF_INET;
    dest->address.sin_port = htons(port);
    dest->address.sin_addr.s_addr = htonl(address);
}
