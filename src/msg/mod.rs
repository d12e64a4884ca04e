//! Messages: the value that lives inside a C `zmq_msg_t` (64 bytes, pointer-aligned).
//!
//! Storage kinds:
//! - `Vsm`: up to [`INLINE_CAP`] bytes inline, copied on `copy`;
//! - `Heap`: one allocation holding a reference count and the bytes (`init_size`), or a
//!   reference count plus the caller's buffer and free function (`init_data`); `copy` shares
//!   it, and the last `close` frees it (calling the free function exactly once); or a
//!   region of a connection's receive buffer, counted on that buffer's block
//!   ([`RecvBuffer`]);
//! - `Const`: caller-owned bytes that outlive the message (`zmq_send_const`, or
//!   `zmq_msg_init_data` without a free function);
//! - `Delimiter`: the internal end-of-pipe marker, never visible to applications.
//!
//! A closed message has kind `Closed`; using it gives EFAULT, as in libzmq. Every message
//! also carries flags (MORE, COMMAND, ROUTING_ID), a routing id and optional metadata.

// A message lives in a C `zmq_msg_t` and shares reference-counted buffers across threads:
// the message buffer is one of the places DESIGN.md allows `unsafe`; each block says why.
#![allow(unsafe_code)]

use std::ffi::{c_void, CStr, CString};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::msg_pool;

mod recv_buffer;
pub use recv_buffer::RecvBuffer;

/// Bytes stored inline, without allocation.
pub const INLINE_CAP: usize = 48;

/// More parts of the same message follow.
pub const MORE: u8 = 1;
/// A ZMTP command frame, not application data.
pub const COMMAND: u8 = 2;
/// A DISH joins the message's group (inside the process; a JOIN command on the wire).
pub const JOIN: u8 = 4;
/// A DISH leaves the message's group (a LEAVE command on the wire).
pub const LEAVE: u8 = 8;
/// The message announces the routing id of a pipe (first message on a ROUTER's pipe).
pub const ROUTING_ID: u8 = 64;
/// The bytes were shared with another copy of the message (`share`): what ZMQ_SHARED
/// reports, with the reference count. Bytes shared with other messages of one receive
/// buffer (zero-copy receive) do not count, as in libzmq.
const SHARED: u8 = 128;

const MAGIC: u8 = 0x5a;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Kind {
    Closed = 0,
    Vsm = 1,
    Heap = 2,
    Const = 3,
    Delimiter = 4,
}

impl Kind {
    /// Whether `byte` is the discriminant of a live kind (not `Closed`).
    fn is_live(byte: u8) -> bool {
        [Kind::Vsm, Kind::Heap, Kind::Const, Kind::Delimiter]
            .iter()
            .any(|&k| k as u8 == byte)
    }
}

/// A C free function with its hint, as given to `zmq_msg_init_data`.
pub type FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void);

/// Who frees a heap block, and how.
enum Release {
    /// The bytes follow the header in a buffer from `msg_pool::alloc_buf`.
    Pool,
    /// A receive buffer from `msg_pool::alloc_init` (see [`RecvBuffer`]).
    Recv,
    /// The caller's bytes, freed by the caller's function with its hint; the header is boxed.
    User(FreeFn, *mut c_void),
    /// The buffer of a `Vec<u8>` (start and capacity), taken over without a copy; the header
    /// is boxed.
    Vec(*mut u8, usize),
}

/// Header of a shared heap block.
struct Block {
    refs: AtomicUsize,
    release: Release,
    /// The allocation size of header + bytes, for the pool (0 for `Release::User`).
    alloc_size: usize,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct HeapRef {
    block: NonNull<Block>,
    data: *mut u8,
    len: usize,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct ConstRef {
    data: *const u8,
    len: usize,
}

#[derive(Clone, Copy)]
#[repr(C)]
union Payload {
    inline: [u8; INLINE_CAP],
    heap: HeapRef,
    cnst: ConstRef,
}

/// Properties attached to messages: those of the connection a message came from
/// (`zmq_msg_gets`), and its RADIO/DISH group (`zmq_msg_group`), which is one more property
/// of the message rather than a field of every message (the 64 bytes of a `zmq_msg_t` are
/// taken).
#[derive(Debug, Clone)]
pub struct Metadata {
    props: Vec<(String, CString)>,
    /// The fd of the connection the message came from (ZMQ_SRCFD), -1 if none.
    fd: i32,
    /// The group (at most [`GROUP_MAX_LENGTH`] bytes, no NUL), if any.
    group: Option<CString>,
}

/// The longest RADIO/DISH group name (ZMQ_GROUP_MAX_LENGTH).
pub const GROUP_MAX_LENGTH: usize = 255;

impl Metadata {
    /// Metadata from name/value pairs.
    pub fn new(props: Vec<(String, CString)>) -> Metadata {
        Metadata {
            props,
            fd: -1,
            group: None,
        }
    }

    /// The same properties, in the group `group`.
    pub fn with_group(mut self, group: Option<CString>) -> Metadata {
        self.group = group;
        self
    }

    /// The group, if any.
    pub fn group(&self) -> Option<&CStr> {
        self.group.as_deref()
    }

    /// Records the fd of the connection the messages come from.
    pub fn with_fd(mut self, fd: i32) -> Metadata {
        self.fd = fd;
        self
    }

    /// The fd of the connection (ZMQ_SRCFD), -1 if none.
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// The value of a property, by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&CStr> {
        self.props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_c_str())
    }
}

/// A shared, reference-counted [`Metadata`] (what messages from one connection carry).
///
/// Like `Arc`, plus [`MetadataStock`]: the engine that stamps every inbound message takes
/// references from a stock acquired many at a time, so the count's cache line is written by
/// the receiving application thread (one decrement per message) and only rarely by the I/O
/// thread, instead of bouncing between them on every message.
pub struct MetadataRef {
    inner: NonNull<MetadataInner>,
}

/// On a cache line of its own: the count is written for every message received, and must
/// not share a line with whatever the I/O thread allocated next to it.
#[repr(align(64))]
struct MetadataInner {
    refs: AtomicUsize,
    md: Metadata,
}

// SAFETY: the metadata is immutable once shared and the count is atomic (as `Arc`).
unsafe impl Send for MetadataRef {}
// SAFETY: as above.
unsafe impl Sync for MetadataRef {}

impl MetadataRef {
    /// A first reference to new metadata.
    pub fn new(md: Metadata) -> MetadataRef {
        let b = Box::new(MetadataInner {
            refs: AtomicUsize::new(1),
            md,
        });
        MetadataRef {
            inner: NonNull::from(Box::leak(b)),
        }
    }

    fn inner(&self) -> &MetadataInner {
        // SAFETY: the allocation lives while any reference (this one included) does.
        unsafe { self.inner.as_ref() }
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        self.inner().refs.load(Ordering::Relaxed)
    }

    /// Adds `n` references at once and returns how many were added, for a stock.
    fn acquire(&self, n: usize) -> usize {
        // Relaxed suffices for increments made from an existing reference (as in `Arc`).
        self.inner().refs.fetch_add(n, Ordering::Relaxed);
        n
    }

    /// Drops `n` references at once (the unused part of a stock); frees the metadata when
    /// they were the last.
    fn release(&self, n: usize) {
        if n == 0 || self.inner().refs.fetch_sub(n, Ordering::Release) != n {
            return;
        }
        // Every other owner's use happens before the free. An acquire load of the count
        // orders as a fence would, and ThreadSanitizer (which does not model fences) sees it.
        self.inner().refs.load(Ordering::Acquire);
        // SAFETY: no reference is left: this was the last owner of the box.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}

impl Clone for MetadataRef {
    fn clone(&self) -> MetadataRef {
        self.acquire(1);
        MetadataRef { inner: self.inner }
    }
}

impl Drop for MetadataRef {
    fn drop(&mut self) {
        self.release(1);
    }
}

impl std::ops::Deref for MetadataRef {
    type Target = Metadata;
    fn deref(&self) -> &Metadata {
        &self.inner().md
    }
}

impl std::fmt::Debug for MetadataRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner().md.fmt(f)
    }
}

/// References to one [`MetadataRef`] handed out without touching the shared count: it is
/// raised by [`MetadataStock::BATCH`] when the stock runs out, and the unused rest is given
/// back when the stock is dropped. Owned by one thread (the engine's).
pub struct MetadataStock {
    md: MetadataRef,
    /// References owned beyond `md` itself, not yet handed out.
    spare: usize,
}

impl MetadataStock {
    /// References taken from the shared count at a time.
    pub const BATCH: usize = 1024;

    /// A stock of references to `md`.
    pub fn new(md: MetadataRef) -> MetadataStock {
        MetadataStock { md, spare: 0 }
    }

    /// One more reference, usually without an atomic operation.
    pub fn take(&mut self) -> MetadataRef {
        if self.spare == 0 {
            self.spare = self.md.acquire(Self::BATCH);
        }
        self.spare -= 1;
        MetadataRef {
            inner: self.md.inner,
        }
    }
}

impl Drop for MetadataStock {
    fn drop(&mut self) {
        self.md.release(self.spare);
    }
}

/// A message. Exactly 64 bytes so that it fits a `zmq_msg_t`.
#[repr(C, align(8))]
pub struct Msg {
    payload: Payload,
    metadata: Option<MetadataRef>,
    routing_id: u32,
    flags: u8,
    inline_len: u8,
    kind: Kind,
    magic: u8,
}

const _: () = assert!(std::mem::size_of::<Msg>() == 64);
const _: () = assert!(std::mem::align_of::<Msg>() == 8);
const _: () = assert!(std::mem::align_of::<Block>() <= msg_pool::ALIGN);

// SAFETY: heap blocks are reference counted atomically; const and user buffers are the
// caller's promise (as in libzmq) to stay valid and unmodified while messages refer to them.
unsafe impl Send for Msg {}

impl Default for Msg {
    fn default() -> Msg {
        Msg::new()
    }
}

impl Msg {
    fn with_kind(kind: Kind) -> Msg {
        Msg {
            payload: Payload {
                inline: [0; INLINE_CAP],
            },
            metadata: None,
            routing_id: 0,
            flags: 0,
            inline_len: 0,
            kind,
            magic: MAGIC,
        }
    }

    /// An empty message.
    pub fn new() -> Msg {
        Msg::with_kind(Kind::Vsm)
    }

    /// The internal pipe delimiter.
    pub fn delimiter() -> Msg {
        Msg::with_kind(Kind::Delimiter)
    }

    /// A message of `size` bytes with unspecified content (zeroed when inline).
    pub fn with_size(size: usize) -> Result<Msg> {
        let mut m = Msg::new();
        // SAFETY: `m` is valid for writes and, empty, holds nothing to drop.
        unsafe { Msg::write_with_size(&mut m, size) }?;
        Ok(m)
    }

    /// As [`Msg::with_size`], written straight into `dst` (`zmq_msg_init_size`): no `Msg`
    /// travels through a `Result` on the way, whose copies around its niche byte would stall
    /// the stores (no store forwarding), on every message.
    ///
    /// # Safety
    /// `dst` must be valid for writing a `Msg`; what it held is overwritten, not dropped.
    #[inline]
    pub unsafe fn write_with_size(dst: *mut Msg, size: usize) -> Result<()> {
        if size > INLINE_CAP {
            // SAFETY: the caller's contract.
            return unsafe { Msg::write_heap(dst, size) };
        }
        // SAFETY: the caller's contract.
        unsafe { dst.write(Msg::small_from(&[0; INLINE_CAP], size, 0, None)) };
        Ok(())
    }

    /// A heap message of `size` bytes (more than [`INLINE_CAP`]), written into `dst`
    /// field by field where it stays (see [`write_with_size`](Self::write_with_size)).
    ///
    /// # Safety
    /// As `write_with_size`. On error `dst` is left as it was.
    #[inline]
    unsafe fn write_heap(dst: *mut Msg, size: usize) -> Result<()> {
        let offset = std::mem::size_of::<Block>();
        let total = offset.checked_add(size).ok_or(Error::NoMem)?;
        let (p, real) = msg_pool::alloc_buf(total).ok_or(Error::NoMem)?;
        let Some(block) = NonNull::new(p.cast::<Block>()) else {
            return Err(Error::NoMem);
        };
        // SAFETY: p is a fresh allocation large enough for a Block at offset 0.
        unsafe {
            block.as_ptr().write(Block {
                refs: AtomicUsize::new(1),
                release: Release::Pool,
                alloc_size: real,
            })
        };
        // SAFETY: the caller's contract; offset lies within the allocation, and the bytes
        // after it are ours.
        unsafe {
            dst.write(Msg {
                payload: Payload {
                    heap: HeapRef {
                        block,
                        data: p.add(offset),
                        len: size,
                    },
                },
                metadata: None,
                routing_id: 0,
                flags: 0,
                inline_len: 0,
                kind: Kind::Heap,
                magic: MAGIC,
            })
        };
        Ok(())
    }

    /// A message holding a copy of `data` inline, with `flags`: for data of at most
    /// [`INLINE_CAP`] bytes (longer data is cut there). Built in one piece, without the
    /// checks and moves of [`from_slice`](Self::from_slice).
    #[inline]
    pub fn small(data: &[u8], flags: u8) -> Msg {
        let n = data.len().min(INLINE_CAP);
        let mut inline = [0u8; INLINE_CAP];
        inline[..n].copy_from_slice(&data[..n]);
        Msg::small_from(&inline, n, flags, None)
    }

    /// A message of the first `len` bytes of `bytes` (at most [`INLINE_CAP`]), copied
    /// inline, with `flags` and `metadata`. The whole array is copied, in a few wide moves
    /// (the bytes after `len` are never read as message data).
    ///
    /// Built in one piece: a message that is moved right after one of its fields was set
    /// alone makes the CPU wait for that narrow store before it can load the wide words
    /// of the move (no store forwarding), on every message.
    #[inline]
    pub fn small_from(
        bytes: &[u8; INLINE_CAP],
        len: usize,
        flags: u8,
        metadata: Option<MetadataRef>,
    ) -> Msg {
        Msg {
            payload: Payload { inline: *bytes },
            metadata,
            routing_id: 0,
            flags,
            inline_len: len.min(INLINE_CAP) as u8,
            kind: Kind::Vsm,
            magic: MAGIC,
        }
    }

    /// Makes this message a copy of `data` (what it held is released): as
    /// [`from_slice`](Self::from_slice), built where it stays, as
    /// [`write_with_size`](Self::write_with_size) is. On error the message is closed.
    #[inline]
    pub fn assign_copy(&mut self, data: &[u8]) -> Result<()> {
        self.close();
        if data.len() <= INLINE_CAP {
            // SAFETY: `self` is valid for writes, and a closed message holds nothing to drop.
            unsafe { (self as *mut Msg).write(Msg::small(data, 0)) };
            return Ok(());
        }
        // SAFETY: as above.
        unsafe { Msg::write_heap(self, data.len()) }?;
        self.data_mut().copy_from_slice(data);
        Ok(())
    }

    /// A message holding a copy of `data`.
    pub fn from_slice(data: &[u8]) -> Result<Msg> {
        if data.len() <= INLINE_CAP {
            return Ok(Msg::small(data, 0));
        }
        let mut m = Msg::new();
        m.assign_copy(data)?;
        Ok(m)
    }

    /// A message over caller-owned memory: with `free`, it is called once when the last
    /// copy closes; without, the memory must outlive every copy (constant data).
    ///
    /// # Safety
    /// `data` must be valid for reads and writes of `len` bytes until released as above.
    pub unsafe fn from_user_data(
        data: *mut u8,
        len: usize,
        free: Option<(FreeFn, *mut c_void)>,
    ) -> Result<Msg> {
        match free {
            // SAFETY: the caller's contract covers from_const's.
            None => Ok(unsafe { Msg::from_const(data, len) }),
            Some(f) => Ok(Msg::over_foreign(data, len, Release::User(f.0, f.1))),
        }
    }

    /// A heap message over bytes it does not allocate, with a boxed header saying how they
    /// are released.
    fn over_foreign(data: *mut u8, len: usize, release: Release) -> Msg {
        let b = Box::new(Block {
            refs: AtomicUsize::new(1),
            release,
            alloc_size: 0,
        });
        let mut m = Msg::with_kind(Kind::Heap);
        m.payload.heap = HeapRef {
            block: NonNull::from(Box::leak(b)),
            data,
            len,
        };
        m
    }

    /// A message that takes over `v`'s buffer, without copying it (a huge body received in
    /// steps: copying it would need twice its size at the end).
    pub fn from_vec(v: Vec<u8>) -> Msg {
        if v.len() <= INLINE_CAP {
            // Never fails at this size.
            return Msg::from_slice(&v).unwrap_or_default();
        }
        let mut v = std::mem::ManuallyDrop::new(v);
        let (data, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        Msg::over_foreign(data, len, Release::Vec(data, cap))
    }

    /// A message over constant memory that outlives it (`zmq_send_const`).
    ///
    /// # Safety
    /// `data` must be valid for reads of `len` bytes (or `len` be 0), and those bytes must
    /// stay valid and unchanged while the message or any copy of it lives (on any thread).
    pub unsafe fn from_const(data: *const u8, len: usize) -> Msg {
        let mut m = Msg::with_kind(Kind::Const);
        m.payload.cnst = ConstRef { data, len };
        m
    }

    /// Checks the tag bytes of the 64 bytes at `p` through the raw pointer, before any
    /// reference to them is formed: memory that C never initialised (or a closed message)
    /// gives EFAULT instead of an invalid [`Kind`], as libzmq's check of its own tag does.
    ///
    /// # Safety
    /// `p` must be NULL or point to 64 readable bytes aligned like `Msg`.
    unsafe fn check_raw(p: *const Msg) -> Result<()> {
        if p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: `p` points to 64 readable bytes (the contract); the tag bytes are read as
        // plain bytes, which any content is.
        let (kind, magic) = unsafe {
            (
                std::ptr::addr_of!((*p).kind).cast::<u8>().read(),
                std::ptr::addr_of!((*p).magic).read(),
            )
        };
        if magic != MAGIC || !Kind::is_live(kind) {
            return Err(Error::Fault);
        }
        Ok(())
    }

    /// The live message at `p` (C's `zmq_msg_t`), for reading; EFAULT for NULL, memory
    /// that is not a live message ([`Msg::check_raw`]), or a closed one.
    ///
    /// # Safety
    /// `p` must be NULL or point to 64 readable bytes, aligned like `Msg`, that nobody writes
    /// while the result is used. When the two tag bytes say "live message", the rest must be
    /// what a [`Msg`] wrote there (the C API's rule that a `zmq_msg_t` is used only after one
    /// of the `zmq_msg_init*` functions).
    pub unsafe fn from_raw_ref<'a>(p: *const Msg) -> Result<&'a Msg> {
        // SAFETY: the caller's contract covers check_raw's.
        unsafe { Msg::check_raw(p) }?;
        // SAFETY: the kind byte holds a valid `Kind`, and by the contract the rest is a
        // message's, not written meanwhile.
        Ok(unsafe { &*p })
    }

    /// As [`Msg::from_raw_ref`], for writing.
    ///
    /// # Safety
    /// As [`Msg::from_raw_ref`], and the bytes must also be writable, and used by nothing
    /// else while the result is.
    pub unsafe fn from_raw<'a>(p: *mut Msg) -> Result<&'a mut Msg> {
        // SAFETY: the caller's contract covers check_raw's.
        unsafe { Msg::check_raw(p) }?;
        // SAFETY: the kind byte holds a valid `Kind`, and by the contract the rest is a
        // message's, used by nothing else meanwhile.
        Ok(unsafe { &mut *p })
    }

    /// Whether this is a live (initialised, not closed) message.
    pub fn is_valid(&self) -> bool {
        self.magic == MAGIC && self.kind != Kind::Closed
    }

    /// Whether dropping this message would release anything (a reference to heap bytes or
    /// to metadata). One that holds nothing may be overwritten without a drop. Reads two
    /// fields only: a receive asks it of a message just initialised, whose 64 bytes read
    /// whole would wait for the stores that wrote them piecemeal.
    pub fn holds_references(&self) -> bool {
        self.kind == Kind::Heap || self.metadata.is_some()
    }

    /// Whether this is the pipe delimiter.
    pub fn is_delimiter(&self) -> bool {
        self.kind == Kind::Delimiter
    }

    /// The message bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: each arm reads the union field that `kind` says is live.
        unsafe {
            match self.kind {
                Kind::Vsm => &self.payload.inline[..self.inline_len as usize],
                Kind::Heap if self.payload.heap.len > 0 => {
                    std::slice::from_raw_parts(self.payload.heap.data, self.payload.heap.len)
                }
                Kind::Const if self.payload.cnst.len > 0 => {
                    std::slice::from_raw_parts(self.payload.cnst.data, self.payload.cnst.len)
                }
                _ => &[],
            }
        }
    }

    /// The message bytes, writable. Bytes shared with another message (a copy, or other
    /// messages of a receive buffer) or owned by the caller (`zmq_send_const`) are first
    /// copied into a buffer of this message's own (copy on write), so the slice is never
    /// seen by anyone else. Aborts, as `Vec` does, when that copy finds no memory.
    pub fn data_mut(&mut self) -> &mut [u8] {
        if self.kind == Kind::Const || (self.kind == Kind::Heap && self.is_shared()) {
            self.unshare();
        }
        // SAFETY: each arm reads the union field that `kind` says is live; heap bytes are
        // this message's alone (just checked), so nobody else reads or writes them.
        unsafe {
            match self.kind {
                Kind::Vsm => &mut self.payload.inline[..self.inline_len as usize],
                Kind::Heap if self.payload.heap.len > 0 => {
                    std::slice::from_raw_parts_mut(self.payload.heap.data, self.payload.heap.len)
                }
                _ => &mut [],
            }
        }
    }

    /// Replaces shared or constant bytes by a private copy, keeping flags, routing id and
    /// metadata (see [`data_mut`](Self::data_mut)).
    #[cold]
    fn unshare(&mut self) {
        let size = self.size();
        let Ok(mut own) = Msg::with_size(size) else {
            let layout = std::alloc::Layout::array::<u8>(size);
            std::alloc::handle_alloc_error(layout.unwrap_or(std::alloc::Layout::new::<u8>()))
        };
        // `own` is heap or inline and unshared: its data_mut does not come back here.
        own.data_mut().copy_from_slice(self.data());
        own.metadata = self.metadata.take();
        own.routing_id = self.routing_id;
        own.flags = self.flags;
        *self = own;
    }

    /// The address of the bytes, as `zmq_msg_data` returns it.
    pub fn data_ptr(&mut self) -> *mut u8 {
        // SAFETY: reads the union field that `kind` says is live.
        unsafe {
            match self.kind {
                Kind::Vsm => self.payload.inline.as_mut_ptr(),
                Kind::Heap => self.payload.heap.data,
                Kind::Const => self.payload.cnst.data as *mut u8,
                _ => std::ptr::null_mut(),
            }
        }
    }

    /// Number of bytes.
    pub fn size(&self) -> usize {
        // SAFETY: reads the union field that `kind` says is live.
        unsafe {
            match self.kind {
                Kind::Vsm => self.inline_len as usize,
                Kind::Heap => self.payload.heap.len,
                Kind::Const => self.payload.cnst.len,
                _ => 0,
            }
        }
    }

    /// The flag byte (MORE, COMMAND, ROUTING_ID).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Sets flag bits.
    pub fn set_flags(&mut self, f: u8) {
        self.flags |= f;
    }

    /// Clears flag bits.
    pub fn reset_flags(&mut self, f: u8) {
        self.flags &= !f;
    }

    /// Whether more parts follow.
    pub fn more(&self) -> bool {
        self.flags & MORE != 0
    }

    /// Whether the bytes are shared with another copy of this message, or owned by the
    /// caller (ZMQ_SHARED).
    pub fn is_shared(&self) -> bool {
        match self.kind {
            // SAFETY: the block is live while this message refers to it.
            Kind::Heap => unsafe {
                self.flags & SHARED != 0
                    && self
                        .payload
                        .heap
                        .block
                        .as_ref()
                        .refs
                        .load(Ordering::Acquire)
                        > 1
            },
            Kind::Const => true,
            _ => false,
        }
    }

    /// The metadata the message arrived with.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_deref()
    }

    /// The shared metadata handle, to attach to another message.
    pub fn metadata_ref(&self) -> Option<&MetadataRef> {
        self.metadata.as_ref()
    }

    /// Attaches metadata.
    pub fn set_metadata(&mut self, md: Option<MetadataRef>) {
        self.metadata = md;
    }

    /// The routing id of a thread-safe socket's peer (SERVER, PEER); 0: none.
    pub fn routing_id(&self) -> u32 {
        self.routing_id
    }

    /// Sets the routing id; 0 is not one (EINVAL), as in libzmq.
    pub fn set_routing_id(&mut self, id: u32) -> Result<()> {
        if id == 0 {
            return Err(Error::Inval);
        }
        self.routing_id = id;
        Ok(())
    }

    /// Forgets the routing id (a message leaving a SERVER: the peer does not see it).
    pub fn reset_routing_id(&mut self) {
        self.routing_id = 0;
    }

    /// The RADIO/DISH group; empty when the message has none.
    pub fn group(&self) -> &CStr {
        self.metadata
            .as_deref()
            .and_then(Metadata::group)
            .unwrap_or(c"")
    }

    /// A JOIN (`join`) or LEAVE message for `group`, as a DISH sends its RADIOs.
    pub fn join_leave(join: bool, group: &[u8]) -> Result<Msg> {
        let mut m = Msg::new();
        m.set_group(group)?;
        m.set_flags(if join { JOIN } else { LEAVE });
        Ok(m)
    }

    /// Sets the group: at most [`GROUP_MAX_LENGTH`] bytes (EINVAL beyond, as libzmq).
    /// The message's other properties stay.
    pub fn set_group(&mut self, group: &[u8]) -> Result<()> {
        if group.len() > GROUP_MAX_LENGTH {
            return Err(Error::Inval);
        }
        let group = CString::new(group).map_err(|_| Error::Inval)?;
        let md = match self.metadata.as_deref() {
            Some(md) => md.clone(),
            None => Metadata::new(Vec::new()),
        };
        self.metadata = Some(MetadataRef::new(md.with_group(Some(group))));
        Ok(())
    }

    /// A second message sharing this one's bytes (heap bytes are reference counted); both
    /// are marked shared.
    pub fn share(&mut self) -> Msg {
        self.count_copy();
        // SAFETY: both references of the copy were just counted.
        unsafe { self.alias() }
    }

    /// `n` messages sharing this one's bytes, the last being this message itself: the
    /// references of all copies are added at once (one atomic addition for the bytes, one
    /// for the metadata), not one per copy, so a fan-out to many pipes writes the count's
    /// cache line once. `n == 0` drops the message.
    pub fn into_copies(mut self, n: usize) -> Copies {
        if n > 1 {
            self.add_refs(n - 1);
            if let Some(md) = &self.metadata {
                md.acquire(n - 1);
            }
        }
        Copies { msg: self, left: n }
    }

    /// Moves (`share == false`, leaving `src` empty) or copies (sharing its bytes) `src`
    /// into `dst`, whose old content is released first (`zmq_msg_move`, `zmq_msg_copy`).
    /// The bits go from one to the other directly: a `Msg` built in a temporary and then
    /// copied would be loaded right after the stores that built it, and wait for them (no
    /// store forwarding to loads split differently), on every message.
    ///
    /// # Safety
    /// Both must be valid, initialised messages that nothing else reads or writes during the
    /// call (no reference to either is alive); they may be the same (then nothing changes).
    pub unsafe fn transfer(dst: *mut Msg, src: *mut Msg, share: bool) {
        if std::ptr::eq(dst, src) {
            return;
        }
        if share {
            // SAFETY: the caller's contract: a live message nothing else reaches meanwhile.
            unsafe { &mut *src }.count_copy();
        }
        // SAFETY: two live messages at different addresses (checked above), 64 bytes each,
        // so they cannot overlap: `dst`'s old content is dropped before its bits are
        // overwritten; the bits copied from `src` own the references
        // counted above (a copy), or `src` gives them up by becoming empty (a move).
        unsafe {
            std::ptr::drop_in_place(dst);
            std::ptr::copy_nonoverlapping(src, dst, 1);
            if !share {
                src.write(Msg::new());
            }
        }
    }

    /// Counts one more owner of this message's bytes and metadata: the copy about to be made.
    fn count_copy(&mut self) {
        self.add_refs(1);
        if let Some(md) = &self.metadata {
            md.acquire(1);
        }
    }

    /// Counts `n` more owners of heap bytes, and marks them shared.
    fn add_refs(&mut self, n: usize) {
        if self.kind == Kind::Heap {
            // Written only when it changes: a copy of this message that loads the line
            // right after the store would wait for it (`transfer`).
            if self.flags & SHARED == 0 {
                self.flags |= SHARED;
            }
            // SAFETY: the block is live; Relaxed suffices for an increment (as in Arc).
            unsafe {
                self.payload
                    .heap
                    .block
                    .as_ref()
                    .refs
                    .fetch_add(n, Ordering::Relaxed)
            };
        }
    }

    /// A bitwise second owner of the bytes and metadata.
    ///
    /// # Safety
    /// The caller has already counted the reference the copy owns, on the heap block
    /// (`add_refs`) and on the metadata (`MetadataRef::acquire`): an uncounted copy would
    /// free them twice.
    unsafe fn alias(&self) -> Msg {
        Msg {
            payload: self.payload,
            metadata: self
                .metadata
                .as_ref()
                .map(|md| MetadataRef { inner: md.inner }),
            routing_id: self.routing_id,
            flags: self.flags,
            inline_len: self.inline_len,
            kind: self.kind,
            magic: MAGIC,
        }
    }

    /// Releases the bytes now and leaves a closed message (kind `Closed`).
    pub fn close(&mut self) {
        self.release();
        self.metadata = None;
        self.kind = Kind::Closed;
    }

    /// Gives up this message's reference to its heap bytes (freeing them when it was the
    /// last); the message is then empty, whether or not other copies remain.
    fn release(&mut self) {
        if self.kind != Kind::Heap {
            return;
        }
        // SAFETY: the heap arm is live (checked above).
        let h = unsafe { self.payload.heap };
        self.kind = Kind::Vsm;
        self.inline_len = 0;
        // SAFETY: `h` was this message's reference to a live block; the message no longer
        // refers to it.
        unsafe {
            // The sole owner frees without a locked decrement (nobody else can add a
            // reference: that takes one): most messages are never shared.
            let refs = &h.block.as_ref().refs;
            if refs.load(Ordering::Acquire) != 1 {
                if refs.fetch_sub(1, Ordering::Release) != 1 {
                    return;
                }
                // As in `MetadataRef::release`: an acquire load, not a fence.
                refs.load(Ordering::Acquire);
            }
            let block = h.block.as_ptr();
            match (*block).release {
                Release::User(f, hint) => {
                    f(h.data.cast(), hint);
                    drop(Box::from_raw(block));
                }
                Release::Pool => msg_pool::free_buf(block.cast(), (*block).alloc_size),
                Release::Recv => RecvBuffer::free_block(block),
                Release::Vec(data, cap) => {
                    // The vector `from_vec` took apart (its bytes need no drop).
                    drop(Vec::from_raw_parts(data, 0, cap));
                    drop(Box::from_raw(block));
                }
            }
        }
    }

    /// A message part for tests: a copy of `b`, with MORE when `more`.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn part(b: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(b).unwrap();
        if more {
            m.set_flags(MORE);
        }
        m
    }

    /// Takes the message out, leaving an empty message behind (`zmq_msg_move`).
    pub fn take(&mut self) -> Msg {
        std::mem::take(self)
    }

    /// Turns this message into an empty one, keeping nothing (as after `zmq_msg_init`).
    pub fn clear(&mut self) {
        // The old value is dropped by the assignment: one release. (A release here first
        // once left a shared message's kind as it was, and the drop released it again,
        // freeing the bytes under the other copies; `release` now empties the message in
        // every case.)
        *self = Msg::new();
    }
}

/// Copies of one message, counted in advance ([`Msg::into_copies`]). Copies not taken are
/// given back when it is dropped.
pub struct Copies {
    msg: Msg,
    /// Copies not yet handed out, the original (handed out last) included.
    left: usize,
}

impl Iterator for Copies {
    type Item = Msg;

    fn next(&mut self) -> Option<Msg> {
        match self.left {
            0 => None,
            1 => {
                self.left = 0;
                Some(self.msg.take())
            }
            _ => {
                self.left -= 1;
                // SAFETY: `into_copies` counted a reference for each of the `left` copies.
                Some(unsafe { self.msg.alias() })
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl Drop for Copies {
    fn drop(&mut self) {
        // Each copy not handed out is dropped as the owner it was counted as; the original
        // (when still here) is dropped with the iterator.
        for _ in 1..self.left {
            // SAFETY: as in `next`: this copy's references were counted; dropping it gives
            // them back.
            drop(unsafe { self.msg.alias() });
        }
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        if self.kind == Kind::Heap {
            self.release();
        }
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msg")
            .field("kind", &self.kind)
            .field("flags", &self.flags)
            .field("size", &self.size())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn layout_fits_zmq_msg_t() {
        assert_eq!(std::mem::size_of::<Msg>(), 64);
        assert_eq!(
            std::mem::align_of::<Msg>(),
            std::mem::align_of::<*const u8>()
        );
    }

    #[test]
    fn small_messages_are_inline_and_large_ones_shared_on_copy() {
        let mut small = Msg::from_slice(b"hello").unwrap();
        assert_eq!(small.data(), b"hello");
        let c = small.share();
        assert!(!c.is_shared());
        let mut big = Msg::from_slice(&[7u8; 1000]).unwrap();
        assert!(!big.is_shared());
        let c2 = big.share();
        assert!(big.is_shared() && c2.is_shared());
        assert_eq!(c2.data().as_ptr(), big.data().as_ptr());
        drop(c2);
        assert!(!big.is_shared());
    }

    #[test]
    fn a_vector_becomes_a_message_without_a_copy() {
        let v = vec![5u8; 100_000];
        let at = v.as_ptr();
        let mut m = Msg::from_vec(v);
        assert_eq!(m.data().as_ptr(), at);
        assert_eq!(m.size(), 100_000);
        let copy = m.share();
        drop(m);
        assert_eq!(copy.data()[99_999], 5);
        drop(copy); // the last reference gives the vector's buffer back
        let small = Msg::from_vec(b"tiny".to_vec());
        assert_eq!(small.data(), b"tiny");
    }

    static FREED: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn count_free(data: *mut c_void, _hint: *mut c_void) {
        FREED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: data is the box the test leaked for this message.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
    }

    #[test]
    fn user_data_is_freed_exactly_once_by_the_last_copy() {
        let buf = Box::into_raw(Box::new(*b"abcd"));
        // SAFETY: buf is a live 4-byte allocation that count_free releases exactly once.
        let mut m =
            unsafe { Msg::from_user_data(buf.cast(), 4, Some((count_free, std::ptr::null_mut()))) }
                .unwrap();
        let c = m.share();
        m.close();
        assert_eq!(FREED.load(Ordering::SeqCst), 0);
        assert_eq!(c.data(), b"abcd");
        drop(c);
        assert_eq!(FREED.load(Ordering::SeqCst), 1);
    }

    static FREED_CLEARED: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn count_free_cleared(data: *mut c_void, _hint: *mut c_void) {
        FREED_CLEARED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: data is the box the test leaked for this message.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
    }

    #[test]
    fn clearing_one_copy_releases_only_its_own_reference() {
        let buf = Box::into_raw(Box::new(*b"abcd"));
        // SAFETY: buf is a live 4-byte allocation that count_free_cleared releases once.
        let mut m = unsafe {
            Msg::from_user_data(
                buf.cast(),
                4,
                Some((count_free_cleared, std::ptr::null_mut())),
            )
        }
        .unwrap();
        let mut copies: Vec<Msg> = (0..3).map(|_| m.share()).collect();
        m.clear();
        copies[0].clear();
        assert_eq!(m.size(), 0);
        assert_eq!(
            FREED_CLEARED.load(Ordering::SeqCst),
            0,
            "two copies still hold it"
        );
        assert_eq!(copies[1].data(), b"abcd");
        copies[1].clear();
        assert!(!copies[2].is_shared(), "one owner left");
        assert_eq!(FREED_CLEARED.load(Ordering::SeqCst), 0);
        copies[2].clear();
        assert_eq!(FREED_CLEARED.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn transfer_moves_copies_and_leaves_a_message_given_as_both_alone() {
        let md = MetadataRef::new(Metadata::new(Vec::new()));
        let mut src = Msg::from_slice(&[7u8; 100]).unwrap();
        src.set_metadata(Some(md.clone()));
        let mut dst = Msg::from_slice(&[1u8; 200]).unwrap();
        // SAFETY: two valid messages.
        unsafe { Msg::transfer(&mut dst, &mut src, true) };
        assert_eq!(dst.data(), &[7u8; 100][..], "the old content was replaced");
        assert!(src.is_shared() && dst.is_shared());
        assert_eq!(md.count(), 3, "both copies hold the metadata");
        let mut moved = Msg::new();
        // SAFETY: as above.
        unsafe { Msg::transfer(&mut moved, &mut src, false) };
        assert_eq!((src.size(), moved.data()), (0, &[7u8; 100][..]));
        assert!(
            src.metadata_ref().is_none(),
            "a move leaves the source empty"
        );
        let p: *mut Msg = &mut moved;
        for share in [true, false] {
            // SAFETY: the same valid message as both.
            unsafe { Msg::transfer(p, p, share) };
        }
        assert_eq!(moved.data(), &[7u8; 100][..]);
        drop(moved);
        assert!(!dst.is_shared(), "one owner left");
        drop(dst);
        assert_eq!(md.count(), 1);
    }

    static FREED_TRANSFER: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn count_free_transfer(data: *mut c_void, _hint: *mut c_void) {
        FREED_TRANSFER.fetch_add(1, Ordering::SeqCst);
        // SAFETY: data is the box the test leaked for this message.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
    }

    #[test]
    fn transfer_releases_what_the_destination_held_once() {
        let user = |bytes: [u8; 4]| {
            let buf = Box::into_raw(Box::new(bytes));
            // SAFETY: buf is a live 4-byte allocation that count_free_transfer releases once.
            unsafe {
                Msg::from_user_data(
                    buf.cast(),
                    4,
                    Some((count_free_transfer, std::ptr::null_mut())),
                )
            }
            .unwrap()
        };
        let mut src = user(*b"new!");
        let mut dst = user(*b"old!");
        for share in [true, false] {
            // SAFETY: two valid messages.
            unsafe { Msg::transfer(&mut dst, &mut src, share) };
        }
        assert_eq!(
            FREED_TRANSFER.load(Ordering::SeqCst),
            1,
            "the old content, once"
        );
        assert_eq!((dst.data(), src.size()), (&b"new!"[..], 0));
        // A destination that already shares the source's bytes: counted before released.
        let mut copy = dst.share();
        // SAFETY: as above.
        unsafe { Msg::transfer(&mut copy, &mut dst, true) };
        assert_eq!(FREED_TRANSFER.load(Ordering::SeqCst), 1);
        drop(dst);
        assert_eq!(copy.data(), b"new!");
        drop(copy);
        assert_eq!(
            FREED_TRANSFER.load(Ordering::SeqCst),
            2,
            "the last copy frees it"
        );
    }

    static FREED_SHARED: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn count_free_shared(data: *mut c_void, _hint: *mut c_void) {
        FREED_SHARED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: data is the box the test leaked for this message.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
    }

    #[test]
    fn copies_dropped_on_many_threads_free_once_after_the_last() {
        // The reference counts of a shared body and of its metadata, dropped concurrently:
        // Miri checks that the last drop sees every other copy's use.
        let buf = Box::into_raw(Box::new(*b"abcd"));
        // SAFETY: buf is a live 4-byte allocation that count_free_shared releases once.
        let mut m = unsafe {
            Msg::from_user_data(
                buf.cast(),
                4,
                Some((count_free_shared, std::ptr::null_mut())),
            )
        }
        .unwrap();
        let md = MetadataRef::new(Metadata::new(vec![(
            "Socket-Type".to_string(),
            std::ffi::CString::new("PUSH").unwrap(),
        )]));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = m.share();
                let md = md.clone();
                std::thread::spawn(move || {
                    assert_eq!(c.data(), b"abcd");
                    assert!(md.get("Socket-Type").is_some());
                    drop(c);
                    drop(md);
                })
            })
            .collect();
        m.close();
        drop(md);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(FREED_SHARED.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn pooled_bodies_shared_across_threads_go_back_once() {
        // A body from msg_pool (a size class), shared, dropped on two threads at once.
        let mut m = Msg::with_size(1000).unwrap();
        m.data_mut().fill(3);
        let c = m.share();
        let t = std::thread::spawn(move || {
            assert!(c.data().iter().all(|&b| b == 3));
        });
        assert!(m.data().iter().all(|&b| b == 3));
        drop(m);
        t.join().unwrap();
    }

    /// 64 bytes aligned like a `Msg`, as C's `zmq_msg_t`.
    #[repr(C, align(8))]
    struct Raw([u8; 64]);

    fn from_raw(raw: &mut Raw) -> Result<&mut Msg> {
        // SAFETY: 64 writable bytes aligned like Msg, used by nothing else meanwhile.
        unsafe { Msg::from_raw((raw as *mut Raw).cast()) }
    }

    #[test]
    fn raw_memory_is_a_message_only_with_a_live_tag() {
        let kind_at = std::mem::offset_of!(Msg, kind);
        let magic_at = std::mem::offset_of!(Msg, magic);
        // SAFETY: NULL is allowed.
        let null = unsafe { Msg::from_raw(std::ptr::null_mut()) };
        assert_eq!(null.err(), Some(Error::Fault));
        for fill in [0x00, 0xff, 0x5a, 0x01] {
            let mut raw = Raw([fill; 64]);
            assert_eq!(
                from_raw(&mut raw).err(),
                Some(Error::Fault),
                "fill {fill:#x}"
            );
        }
        // The magic byte alone is not enough: the kind byte must be a live kind.
        for kind in [0u8, 5, 6, 0x80, 0xff] {
            let mut raw = Raw([0; 64]);
            raw.0[magic_at] = MAGIC;
            raw.0[kind_at] = kind;
            assert_eq!(from_raw(&mut raw).err(), Some(Error::Fault), "kind {kind}");
        }
        let mut raw = Raw([0xee; 64]);
        // SAFETY: writes a message into the 64 aligned bytes (nothing to drop there).
        unsafe { std::ptr::write((&mut raw as *mut Raw).cast::<Msg>(), Msg::part(b"hi", true)) };
        // SAFETY: the 64 aligned bytes hold a live message, not written meanwhile.
        let r = unsafe { Msg::from_raw_ref((&raw as *const Raw).cast()) }.unwrap();
        assert_eq!((r.data(), r.more()), (&b"hi"[..], true));
        from_raw(&mut raw).unwrap().close();
        // SAFETY: as above (closed: refused).
        let closed = unsafe { Msg::from_raw_ref((&raw as *const Raw).cast()) };
        assert_eq!(closed.err(), Some(Error::Fault));
        assert_eq!(from_raw(&mut raw).err(), Some(Error::Fault));
    }

    #[test]
    fn data_mut_never_writes_bytes_another_message_sees() {
        let mut a = Msg::from_slice(&[1u8; 100]).unwrap();
        a.set_flags(MORE);
        let b = a.share();
        let at = b.data().as_ptr();
        a.data_mut()[0] = 2;
        assert_eq!(b.data(), &[1u8; 100][..]);
        assert_eq!(a.data()[..2], [2, 1]);
        assert_ne!(a.data().as_ptr(), at, "a private copy");
        assert!(a.more() && !a.is_shared() && !b.is_shared());
        // Unshared heap bytes are written in place.
        let mut c = Msg::from_slice(&[3u8; 100]).unwrap();
        let at = c.data().as_ptr();
        c.data_mut()[0] = 4;
        assert_eq!(c.data().as_ptr(), at);
        // Constant bytes are the caller's: copied first.
        static CONST: [u8; 3] = *b"abc";
        // SAFETY: a static outlives the message and is never written.
        let mut k = unsafe { Msg::from_const(CONST.as_ptr(), 3) };
        k.data_mut()[0] = b'x';
        assert_eq!((k.data(), &CONST), (&b"xbc"[..], b"abc"));
    }

    #[test]
    fn closed_message_is_invalid() {
        let mut m = Msg::from_slice(&[1; 100]).unwrap();
        assert!(m.is_valid());
        m.close();
        assert!(!m.is_valid());
    }

    static FREED_COPIES: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn count_free_copies(data: *mut c_void, _hint: *mut c_void) {
        FREED_COPIES.fetch_add(1, Ordering::SeqCst);
        // SAFETY: data is the box the test leaked for this message.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
    }

    #[test]
    fn copies_counted_at_once_share_the_bytes_and_give_back_what_is_not_taken() {
        let buf = Box::into_raw(Box::new(*b"wxyz"));
        // SAFETY: buf is a live 4-byte allocation that count_free_copies releases once.
        let mut m = unsafe {
            Msg::from_user_data(
                buf.cast(),
                4,
                Some((count_free_copies, std::ptr::null_mut())),
            )
        }
        .unwrap();
        let md = MetadataRef::new(Metadata::new(Vec::new()));
        let probe = md.clone();
        m.set_metadata(Some(md));
        m.set_flags(MORE);
        let mut copies = m.into_copies(4);
        assert_eq!(copies.size_hint(), (4, Some(4)));
        assert_eq!(
            probe.count(),
            1 + 4,
            "one reference per copy, taken at once"
        );
        let a = copies.next().unwrap();
        let b = copies.next().unwrap();
        assert!(a.is_shared() && a.more());
        assert_eq!(a.data().as_ptr(), b.data().as_ptr());
        assert_eq!(b.data(), b"wxyz");
        // The two copies not taken (the original among them) go back with the iterator.
        drop(copies);
        assert_eq!(probe.count(), 1 + 2);
        assert_eq!(FREED_COPIES.load(Ordering::SeqCst), 0);
        drop(a);
        assert!(!b.is_shared(), "the last owner");
        drop(b);
        assert_eq!(FREED_COPIES.load(Ordering::SeqCst), 1);
        assert_eq!(probe.count(), 1);
        // All taken: the last is the message itself; none: the message is dropped.
        let all: Vec<Msg> = Msg::from_slice(&[3u8; 100])
            .unwrap()
            .into_copies(3)
            .collect();
        assert!(all.iter().all(|c| c.data() == [3u8; 100] && c.is_shared()));
        assert_eq!(Msg::from_slice(b"x").unwrap().into_copies(0).count(), 0);
        let one: Vec<Msg> = Msg::from_slice(&[4u8; 100])
            .unwrap()
            .into_copies(1)
            .collect();
        assert!(!one[0].is_shared());
    }

    #[test]
    fn metadata_stock_hands_out_counted_references_and_returns_the_rest() {
        let md = MetadataRef::new(Metadata::new(vec![(
            "Socket-Type".into(),
            CString::new("PAIR").unwrap(),
        )]));
        let probe = md.clone();
        let mut stock = MetadataStock::new(md);
        // Taking references adds to the shared count a batch at a time.
        let first = stock.take();
        assert_eq!(probe.count(), 2 + MetadataStock::BATCH);
        let mut taken: Vec<MetadataRef> = (0..MetadataStock::BATCH + 5)
            .map(|_| stock.take())
            .collect();
        assert_eq!(probe.count(), 2 + 2 * MetadataStock::BATCH);
        assert_eq!(taken[7].get("socket-type").unwrap().to_bytes(), b"PAIR");
        // Dropping the stock gives back the unused references, not the handed-out ones.
        drop(stock);
        assert_eq!(probe.count(), 1 + 1 + MetadataStock::BATCH + 5);
        let mut m = Msg::new();
        m.set_metadata(taken.pop());
        let copy = m.share();
        assert_eq!(probe.count(), 2 + 1 + MetadataStock::BATCH + 5);
        drop(taken);
        drop(first);
        drop(m);
        assert_eq!(probe.count(), 2);
        assert_eq!(
            copy.metadata()
                .unwrap()
                .get("Socket-Type")
                .unwrap()
                .to_bytes(),
            b"PAIR"
        );
        drop(copy);
        assert_eq!(probe.count(), 1);
    }
}
