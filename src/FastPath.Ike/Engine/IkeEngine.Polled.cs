using System;
using System.Net;
using System.Threading;
using FastPath.Ike.Interop;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Engine;

// Receive on the engine thread (ReceiveOnEngineThread): the engine thread itself waits on the IKE
// sockets and on an eventfd, instead of receive threads handing every datagram over through the work
// queue. Why: at saturation, on this machine's PVM guest, the responder's hand-offs (futex wake-ups,
// reschedule IPIs, context switches between the receive, engine, sink and worker threads on one
// core) were ~12 % of its CPU and the receive threads' own poll(2) ~6 % (perf, docs/ike-performance.md).
//
// Loop (PollOnce, engine thread, repeated until Dispose):
//   run up to 64 queued work items (timers, API calls, sink completions, OnDatagram from other callers)
//   poll(sockets + eventfd): timeout 0 when there was work, else sleep — announced in _sleeping first,
//     so that Post() signals the eventfd only when the engine may actually be asleep (no syscall per
//     Post while busy); the queue is re-checked after the announcement, so no wake-up is lost
//   for each readable socket: up to 16 datagrams (ReceiveOne), each handled at once (Receive), under
//     the same lock and with the same error handling as a work item; then back to the queue
// Order: datagrams of one socket keep their order; a datagram and a queued item race as they did
// between two threads before.
public sealed partial class IkeEngine
{
    private IPolledIkeTransport? _polled;
    private PollInterop.PollFd[]? _pollFds;
    private int _eventFd = -1;
    private int _sleeping;

    private const int PolledWorkBurst = 64;
    private const int PolledReceiveBurst = 16;

    /// <summary>The engine thread receives from <paramref name="transport"/> itself (no receive threads): call instead of
    /// transport.Start(engine.OnDatagram). OnDatagram still works for other callers.</summary>
    public void ReceiveOnEngineThread(IPolledIkeTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_eventFd >= 0) throw new InvalidOperationException("already receiving on the engine thread");
        int efd = PollInterop.CreateEventFd();
        if (efd < 0) throw new InvalidOperationException("eventfd(2) failed");
        var fds = new PollInterop.PollFd[transport.DescriptorCount + 1];
        for (int i = 0; i < transport.DescriptorCount; i++) fds[i] = new PollInterop.PollFd { Fd = transport.Descriptor(i), Events = PollInterop.PollIn };
        fds[^1] = new PollInterop.PollFd { Fd = efd, Events = PollInterop.PollIn };
        transport.StartPolled(OnPolledDatagram);
        _eventFd = efd;
        // The loop switches at its next turn; the work item also wakes a thread blocked in the queue.
        Post(() => { _pollFds = fds; _polled = transport; });
    }

    private void WakePolled()
    {
        if (Volatile.Read(ref _sleeping) != 0 && _eventFd >= 0) PollInterop.Signal(_eventFd);
    }

    // False once disposed (the loop ends).
    private bool PollOnce()
    {
        int work = 0;
        while (work < PolledWorkBurst && _queue.TryTake(out var item))
        {
            Execute(item);
            work++;
        }
        if (_queue.IsCompleted || _disposed) return false;
        var fds = _pollFds!;
        int timeout = 0;
        if (work == 0)
        {
            Interlocked.Exchange(ref _sleeping, 1); // full fence: the Count below is read after the announcement
            if (_queue.Count == 0) timeout = 500;   // Post() signals the eventfd; 500 ms is only a safety net
        }
        int ready = PollInterop.Poll(fds, timeout);
        Volatile.Write(ref _sleeping, 0);
        if (ready <= 0) return true;
        int sockets = fds.Length - 1;
        for (int i = 0; i < sockets; i++)
        {
            short ev = fds[i].Revents;
            if ((ev & PollInterop.PollNval) != 0) return !_disposed; // closed under us: only while shutting down
            if ((ev & (PollInterop.PollIn | PollInterop.PollErr | PollInterop.PollHup)) == 0) continue;
            lock (_gate)
            {
                for (int k = 0; k < PolledReceiveBurst && _polled!.ReceiveOne(i); k++) { }
            }
        }
        if ((fds[sockets].Revents & PollInterop.PollIn) != 0) PollInterop.Drain(_eventFd);
        return true;
    }

    // The transport's handler in polled mode: engine thread, _gate held (PollOnce).
    private void OnPolledDatagram(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote)
    {
        if (_disposed) return;
        if (ikeMessage.Length > IkeMessage.MaxLength) { Interlocked.Increment(ref _invalid); return; }
        try { Receive(ikeMessage.ToArray(), local, remote); }
#pragma warning disable CA1031 // as for a work item: a handler bug is logged, the engine goes on
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
    }
}
