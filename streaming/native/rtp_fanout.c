/*
 * One fan-out batch: RTP payloads to many subscribers sharing a UDP socket. For each
 * entry: write the subscriber's RTP header and the payload into a slot, protect it in
 * place with libsrtp; a subscriber's consecutive entries (its packets of one video frame)
 * become one UDP GSO message, and every message goes out with sendmmsg (one system call
 * per run of messages on the same socket).
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
/* Packets in one GSO message: UDP_MAX_SEGMENTS of kernels before 6.9. */
#define VB_SEGMENTS 64
/* A GSO message's UDP payload stays under the 64 KiB IP datagram. */
#define VB_GSO_BYTES 65000
/* The longest SRTP trailer libsrtp adds (SRTP_MAX_TRAILER_LEN), for the size check. */
#define VB_TRAILER 144
/* Protected packets one call keeps at once (the caller's slot buffer may be smaller). */
#define VB_SLOTS_MAX 1024

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

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
/* What vb_fan_out reports in its ``counts`` array. */
enum { VB_FAILED_COUNT = 0, VB_GSO_REFUSED = 1, VB_GSO_SENT = 2, VB_COUNTS = 3 };

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

/* One message being built: its first iovec and how many packets it carries. */
struct vb_message {
    int vector;
    int packets;
};

/*
 * How many entries from ``first`` (same socket, same destination, at most ``max_segments``)
 * one message can carry as UDP GSO segments: the kernel cuts a GSO send into equal
 * segments, only the last may be shorter, so the run stops at the first packet longer than
 * the first one and ends after the first shorter one. Equal clear lengths give equal
 * protected lengths (one SRTP session, one trailer size), so this is decided before
 * protecting anything.
 */
static int vb_segment_run(const struct vb_entry *entries, int first, int count, int max_segments)
{
    const struct vb_entry *head = &entries[first];
    int size = head->payload_length;
    int bytes = 12 + size;
    int i = first + 1;
    while (i < count && i - first < max_segments && entries[i].fd == head->fd &&
           entries[i].dest == head->dest) {
        int length = entries[i].payload_length;
        if (length > size || bytes + 12 + length + VB_TRAILER * (i - first + 1) > VB_GSO_BYTES)
            break;
        bytes += 12 + length;
        i++;
        if (length < size)
            break; /* the short one closes the message */
    }
    return i - first;
}

static void vb_settle(struct vb_entry *entries, const int *indexes, const struct vb_message *m,
                      uint8_t status, int *failed)
{
    for (int k = m->vector; k < m->vector + m->packets; k++) {
        entries[indexes[k]].status = status;
        if (status == VB_FAILED)
            (*failed)++;
    }
}

/*
 * Protects and sends ``count`` entries. Consecutive entries with the same socket and
 * destination (a subscriber's packets of one frame) leave as one UDP GSO message of up to
 * ``max_segments`` packets; every message of a run goes in one sendmmsg. ``slots`` holds
 * ``slot_count`` protected packets of ``slot_size`` bytes, reused run after run.
 *
 * Returns how many entries were left unsent because their socket would block. Fills
 * ``counts``: [VB_FAILED_COUNT] entries that could not be protected or sent for another
 * reason (dropped, as the one-packet path drops them); [VB_GSO_REFUSED] 1 when the kernel
 * refused a GSO message (its packets are left unsent, so their writers send them the plain
 * way); [VB_GSO_SENT] GSO messages (more than one packet) the kernel took. Every entry's
 * status says what became of it.
 */
int vb_fan_out(uintptr_t protect_address, struct vb_entry *entries, int count,
               uint8_t *slots, int slot_size, int slot_count, int max_segments, int *counts)
{
    int *failed = &counts[VB_FAILED_COUNT];
    int *gso_refused = &counts[VB_GSO_REFUSED];
    vb_protect_fn protect = (vb_protect_fn)protect_address;
    struct mmsghdr messages[VB_RUN];
    struct vb_message built[VB_RUN];
    union {
        char buffer[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } controls[VB_RUN];
    struct iovec vectors[VB_SLOTS_MAX];
    int indexes[VB_SLOTS_MAX];
    int blocked_fd = -2;
    int unsent = 0;
    *failed = 0;
    *gso_refused = 0;
    counts[VB_GSO_SENT] = 0;
    if (max_segments < 1)
        max_segments = 1;
    if (max_segments > VB_SEGMENTS)
        max_segments = VB_SEGMENTS;
    if (slot_count > VB_SLOTS_MAX)
        slot_count = VB_SLOTS_MAX;
    if (slot_count < max_segments)
        max_segments = slot_count;

    for (int i = 0; i < count; i++)
        entries[i].status = VB_UNSENT;

    int next = 0;
    while (next < count) {
        int fd = entries[next].fd;
        int run = 0;
        int used = 0; /* slots (and iovecs) of this run */
        int i = next;
        /* A run: messages on one socket, each one destination's packets, protected. */
        while (i < count && run < VB_RUN && entries[i].fd == fd) {
            if (fd == blocked_fd) {
                i++; /* this socket already said it would block: left unsent */
                continue;
            }
            int packets = vb_segment_run(entries, i, count, max_segments);
            if (used + packets > slot_count)
                break; /* no room left in this run's slots */
            struct vb_dest *dest = (struct vb_dest *)(uintptr_t)entries[i].dest;
            int first_vector = used;
            int segment = 0;
            for (int k = i; k < i + packets; k++) {
                struct vb_entry *entry = &entries[k];
                uint8_t *slot = slots + (size_t)used * (size_t)slot_size;
                if (12 + (int)entry->payload_length + VB_TRAILER > slot_size) {
                    entry->status = VB_FAILED; /* SRTP could not protect it in a slot */
                    (*failed)++;
                    continue;
                }
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
                if (segment == 0)
                    segment = length;
                vectors[used].iov_base = slot;
                vectors[used].iov_len = (size_t)length;
                indexes[used] = k;
                used++;
            }
            i += packets;
            int carried = used - first_vector;
            if (carried == 0)
                continue; /* every packet failed to protect */
            struct msghdr *header = &messages[run].msg_hdr;
            memset(header, 0, sizeof(*header));
            header->msg_name = &dest->address;
            header->msg_namelen = sizeof(dest->address);
            header->msg_iov = &vectors[first_vector];
            header->msg_iovlen = (size_t)carried;
            if (carried > 1) {
                header->msg_control = controls[run].buffer;
                header->msg_controllen = sizeof(controls[run].buffer);
                struct cmsghdr *control = CMSG_FIRSTHDR(header);
                control->cmsg_level = SOL_UDP;
                control->cmsg_type = UDP_SEGMENT;
                control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t gso_size = (uint16_t)segment;
                memcpy(CMSG_DATA(control), &gso_size, sizeof(gso_size));
            }
            built[run].vector = first_vector;
            built[run].packets = carried;
            run++;
        }
        next = i;
        /* Send the run; an error other than "would block" drops one message and goes on. */
        int done = 0;
        while (done < run) {
            int sent = sendmmsg(fd, messages + done, (unsigned int)(run - done), MSG_DONTWAIT);
            if (sent > 0) {
                for (int k = done; k < done + sent; k++) {
                    vb_settle(entries, indexes, &built[k], VB_SENT, failed);
                    counts[VB_GSO_SENT] += built[k].packets > 1;
                }
                done += sent;
            } else if (sent < 0 && errno == EINTR) {
                continue;
            } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                blocked_fd = fd;
                break;
            } else if (built[done].packets > 1 &&
                       (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP ||
                        errno == ENOPROTOOPT)) {
                /* No GSO on this path (old kernel, no checksum offload): this message
                 * and the rest on the socket are left unsent, so each writer's unsent
                 * packets stay its last ones; the writers send them the plain way and
                 * the caller stops asking for GSO. */
                *gso_refused = 1;
                blocked_fd = fd;
                break;
            } else {
                vb_settle(entries, indexes, &built[done], VB_FAILED, failed);
                done++;
            }
        }
    }
    for (int i = 0; i < count; i++)
        unsent += entries[i].status == VB_UNSENT;
    return unsent;
}

/* One packet of a frame, as every subscriber gets it before its own header. */
struct vb_packet {
    uint64_t payload;            /* const uint8_t *, kept alive by the caller */
    uint32_t timestamp;
    uint16_t payload_length;
    uint16_t sequence;
    uint8_t marker;
    uint8_t reserved[7];
};

/* One subscriber's share of a frame: packets [start, end) with its header fields. */
struct vb_writer {
    uint64_t dest;               /* struct vb_dest * */
    int32_t fd;
    uint32_t ssrc;
    uint32_t timestamp_offset;
    uint16_t sequence_offset;
    uint8_t payload_type;
    uint8_t reserved;
    int32_t start;
    int32_t end;
    int32_t sent;                /* out: packets from start that went (or were dropped) */
    int32_t failed;              /* out: of those, dropped for an error */
};

/* Sends the entries of ``count`` writers laid out in order; fills each one's outcome. */
static int vb_send_writers(uintptr_t protect_address, struct vb_writer *writers, int count,
                           struct vb_entry *entries,
                           int entry_count, uint8_t *slots, int slot_size, int slot_count,
                           int max_segments, int *counts)
{
    int unsent = vb_fan_out(protect_address, entries, entry_count, slots, slot_size,
                            slot_count, max_segments, counts);
    int at = 0;
    for (int w = 0; w < count; w++) {
        struct vb_writer *writer = &writers[w];
        writer->sent = 0;
        writer->failed = 0;
        for (int p = writer->start; p < writer->end; p++, at++) {
            uint8_t status = entries[at].status;
            writer->sent += status != VB_UNSENT;
            writer->failed += status == VB_FAILED;
        }
    }
    return unsent;
}

/*
 * A frame to many subscribers: ``packets`` once, and for each writer the range it gets
 * and its header fields. Each writer's entries are laid out next to each other (its GSO
 * messages) in ``entries`` (``entry_capacity`` of them; a writer never spans two native
 * sends, so a socket that blocks leaves only a writer's last packets unsent). Fills each
 * writer's ``sent`` and ``failed``; ``counts`` adds up as in vb_fan_out. Returns how many
 * packets were left unsent.
 */
int vb_send_frame(uintptr_t protect_address, const struct vb_packet *packets,
                  struct vb_writer *writers, int writer_count, struct vb_entry *entries,
                  int entry_capacity, uint8_t *slots, int slot_size, int slot_count,
                  int max_segments, int *counts)
{
    int total[VB_COUNTS] = {0, 0, 0};
    int unsent = 0;
    int first = 0; /* the first writer of the entries being filled */
    int filled = 0;
    for (int w = 0; w <= writer_count; w++) {
        int length = w < writer_count ? writers[w].end - writers[w].start : 0;
        if (w == writer_count || (filled + length > entry_capacity && filled > 0)) {
            if (w > first) {
                int part[VB_COUNTS];
                unsent += vb_send_writers(protect_address, writers + first, w - first, entries,
                                          filled, slots, slot_size, slot_count, max_segments,
                                          part);
                for (int k = 0; k < VB_COUNTS; k++)
                    total[k] = k == VB_GSO_REFUSED ? (total[k] | part[k]) : total[k] + part[k];
                if (part[VB_GSO_REFUSED])
                    max_segments = 1;
            }
            first = w;
            filled = 0;
            if (w == writer_count)
                break;
        }
        if (length > entry_capacity) {
            /* Cannot happen with the caller's limits; sent nothing, all of it unsent. */
            writers[w].sent = writers[w].failed = 0;
            unsent += length;
            first = w + 1;
            continue;
        }
        struct vb_writer *writer = &writers[w];
        for (int p = writer->start; p < writer->end; p++) {
            const struct vb_packet *packet = &packets[p];
            struct vb_entry *entry = &entries[filled++];
            entry->dest = writer->dest;
            entry->payload = packet->payload;
            entry->fd = writer->fd;
            entry->ssrc = writer->ssrc;
            entry->timestamp = packet->timestamp + writer->timestamp_offset;
            entry->payload_length = packet->payload_length;
            entry->sequence = (uint16_t)(packet->sequence + writer->sequence_offset);
            entry->first_byte = 0x80;
            entry->second_byte = (uint8_t)((packet->marker ? 0x80 : 0) | writer->payload_type);
            entry->status = VB_UNSENT;
        }
    }
    for (int k = 0; k < VB_COUNTS; k++)
        counts[k] = total[k];
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
