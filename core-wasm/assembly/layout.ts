// The memory layout shared by the host (core-wasm/*.ts), the wasm kernel (assembly/) and the
// reference kernel (reference/). This file is valid AssemblyScript and TypeScript and is kept
// byte-identical in assembly/ and reference/ (a test checks it). All numbers are i32 word
// indices or small codes; pointers are byte addresses in linear memory.

// ---- Table header: i32 words at the table pointer -------------------------------------------
export const H_CAP = 0; // node capacity N (a multiple of 4): every node column holds N values
export const H_COUNT = 1; // node slots in use (highest slot + 1)
export const H_STRATEGY = 2; // ST_*: the NodeResourcesFit scoring strategy
export const H_W_RES = 3; // score weights: NodeResourcesFit
export const H_W_BAL = 4; // NodeResourcesBalancedAllocation
export const H_W_AFF = 5; // NodeAffinity (preferred terms)
export const H_W_TAINT = 6; // TaintToleration (PreferNoSchedule)
export const H_W_SPREAD = 7; // PodTopologySpread (ScheduleAnyway)
export const H_W_IMAGE = 8; // ImageLocality
export const H_FLAGS = 9; // i32[N]: F_PRESENT | F_UNSCHEDULABLE
export const H_RUNTIMES = 10; // i32[N]: bitset of runtime ids
export const H_ALLOC = 11; // f64[4][N]: allocatable cpu (milli), memory, ephemeral (bytes), pods
export const H_REQ = 12; // f64[4][N]: requested, same order
export const H_SREQ = 13; // f64[2][N]: non-zero requested cpu, memory (for the resource scores)
export const H_LABELS = 14; // i32[LW][N]: label bitsets, word-major (word w of node i at w*N+i)
export const H_LABEL_WORDS = 15;
export const H_TAINTS = 16; // i32[TW][N]: taint bitsets
export const H_TAINT_WORDS = 17;
export const H_IMAGES = 18; // i32[IW][N]: image bitsets
export const H_IMAGE_WORDS = 19;
export const H_PORTS = 20; // i32[PW][N]: host-port bitsets
export const H_PORT_WORDS = 21;
export const H_DOMAINS = 22; // i32[K][N]: topology domain id of node i for key k, or -1
export const H_DOMAIN_CAP = 23; // D: domain ids per key are < D
export const H_COUNTS = 24; // i32[C][N]: bound pods on node i matching counter c
export const H_TOTALS = 25; // i32[C][D]: the same summed per topology domain of the counter's key
export const H_COUNTER_KEY = 26; // i32[C]: topology key of each counter
export const H_LOG = 27; // f64[N+2]: LOG[n] = ln(n + 2), written by the host so both kernels agree
export const H_S_OK = 28; // scratch i32[N]: 1 when node i passed every filter for the current pod
export const H_S_BASE = 29; // scratch i32[N]: weighted resource + balanced allocation score
export const H_S_AFF = 30; // scratch i32[N]: raw preferred node affinity
export const H_S_TAINT = 31; // scratch i32[N]: raw count of untolerated PreferNoSchedule taints
export const H_S_SPREAD = 32; // scratch i32[N]: raw soft topology spread score, -1 = ignored
export const H_S_DSUM = 33; // scratch i32[MAX_SPREAD][D]: matching pods per domain, -1 = no eligible node
export const H_S_SEEN = 34; // scratch i32[MAX_SPREAD][D]: domain has a feasible node
export const H_S_MIN = 35; // scratch i32[5][MAX_SPREAD]: per constraint MIN (min matching pods over eligible domains), SIZE (soft: feasible domains), UNIQUE (1: no two nodes share a domain of the key), LIMIT (hard: largest count a domain may have)
export const H_S_STATIC = 36; // scratch i32[N]: first failing static filter (unschedulable, runtime, taint, affinity), 0, or -1 (empty slot)
export const H_S_IMG = 37; // scratch i32[N]: weighted image locality score
export const H_S_KEYS = 38; // scratch i32[N]: K_* bits
export const H_S_FIT = 39; // scratch i32[N]: NodeResourcesFit reason or 0
export const H_SHAPE = 40; // scratch i32[SHAPE_CAP]: the static words of the pod the static columns are for
export const H_SHAPE_CAP = 41;
export const H_SHAPE_VALID = 42; // the host clears it on any node change: the kernel then drops every static-cache entry and sets it
export const H_KEY_DOMAINS = 43; // i32[K]: domain ids in use per topology key (≤ D)
export const H_S_SSCORE = 44; // scratch i32[N]: image locality + weighted normalised preferred affinity and taint scores
export const H_SS_AFF = 45; // the maxAff S_SSCORE was normalised with, -1 = stale (prepareStatic clears it)
export const H_SS_TAINT = 46; // the maxTaint S_SSCORE was normalised with
export const H_S_BUCKET = 47; // scratch i32[2][BUCKET_CAP]: per raw soft spread score, best static+resource score + 1 (0 = empty) and its slot
export const H_SLOTS = 48; // i32[SLOT_COUNT][SLOT_WORDS]: the per-shape column cache, one entry per pod shape (static.ts sameShape)
export const H_SLOT_CUR = 49; // the entry whose columns H_S_STATIC, H_S_KEYS, H_S_AFF, H_S_TAINT, H_S_IMG, H_S_SSCORE, H_S_FIT, H_S_BASE and H_SHAPE point at
export const H_CLOCK = 50; // use counter for least-recently-used replacement of entries
export const H_BINDLOG = 51; // i32[BINDLOG_CAP]: the node slot of every bind and unbind, a ring (scores.ts syncResources)
export const H_BINDS = 52; // binds and unbinds so far (the ring's write position)
export const H_PASS_MAX_AFF = 53; // the last filter pass (place.ts feasibleStats): largest raw preferred affinity of a feasible node
export const H_PASS_MAX_TAINT = 54; // its largest raw count of untolerated PreferNoSchedule taints
export const H_PASS_SCORED = 55; // its feasible nodes carrying the keys of every ScheduleAnyway constraint
export const H_RW_CPU = 56; // NodeResourcesFit score weight per resource (scoringStrategy.resources; 0 = not scored): cpu
export const H_RW_MEM = 57; // memory
export const H_RW_EPH = 58; // ephemeral storage
export const H_RTC_POINTS = 59; // RequestedToCapacityRatio: number of shape points (≥ 1 with that strategy)
export const H_RTC_SHAPE = 60; // i32[points][2]: (utilization 0–100, score 0–100) per point, utilization increasing
export const HEADER_WORDS = 62;
export const BINDLOG_CAP = 4096; // a power of two
export const SLOT_COUNT = 32; // pod shapes whose columns are kept (interleaved templates)
export const SLOT_COLS = 8; // columns per entry
export const SL_VALID = 0; // entry words: 1 while its static columns hold its shape's static filters and scores
export const SL_USED = 1; // H_CLOCK at its last use
export const SL_COLS = 2; // SLOT_COLS column pointers, in the order of H_S_STATIC, H_S_KEYS, H_S_AFF, H_S_TAINT, H_S_IMG, H_S_SSCORE, H_S_FIT, H_S_BASE
export const SL_SHAPE = 10; // pointer to its shape words (H_SHAPE)
export const SL_SS = 11; // its H_SS_AFF, H_SS_TAINT
export const SL_UNIQUE = 13; // its UNIQUE row (MAX_SPREAD words)
export const SL_RVALID = 21; // 1 while S_FIT and S_BASE hold NodeResourcesFit for the requests in SL_REQ as of bind SL_SYNC
export const SL_SYNC = 22; // H_BINDS when S_FIT and S_BASE were last brought up to date
export const SL_REQ = 23; // the pod record's request words P_CPU..P_SMEM (10 words) the resource columns are for
export const SLOT_WORDS = 34;
export const BUCKET_CAP = 4096; // raw soft spread scores at or above this use the two-pass selection


export const K_HARD_KEYS = 1; // node has the keys of every DoNotSchedule constraint
export const K_SOFT_KEYS = 2; // node has the keys of every ScheduleAnyway constraint
export const K_AFFINITY = 4; // node matches nodeSelector and required node affinity

export const ST_LEAST_ALLOCATED = 0; // H_STRATEGY values
export const ST_MOST_ALLOCATED = 1;
export const ST_REQUESTED_TO_CAPACITY = 2;

export const F_PRESENT = 1;
export const F_UNSCHEDULABLE = 2;
export const MAX_SPREAD = 8; // topology spread constraints per pod
export const S_SIZE = MAX_SPREAD; // word offsets of the rows of H_S_MIN
export const S_UNIQUE = 2 * MAX_SPREAD;
export const S_LIMIT = 3 * MAX_SPREAD;
export const S_TABLE = 4 * MAX_SPREAD; // 16 bytes: a per-domain flag table for keys with at most 16 domains

// ---- Pod record: i32 words, 8-byte aligned; f64 fields take two words -------------------------
export const P_LEN = 0; // record length in words (even)
export const P_FLAGS = 1; // PF_* bits
export const P_CPU = 2; // f64 request: cpu milli
export const P_MEM = 4; // f64 request: memory bytes
export const P_EPH = 6; // f64 request: ephemeral bytes
export const P_SCPU = 8; // f64 non-zero cpu request (100m when 0), for scores
export const P_SMEM = 10; // f64 non-zero memory request (200 MiB when 0), for scores
export const P_RUNTIME = 12; // bit of the runtime id the pod needs (0: no node has it)
export const P_TAINTS = 13; // word offset of: untolerated hard taint mask[TW], untolerated PreferNoSchedule mask[TW]
export const P_REQUIRED = 14; // offset of: nTerms (-1: none), terms; term = nReqs, reqs; req = op, nPairs, (word, mask)*
export const P_PREFERRED = 15; // offset of: nTerms, (weight, term)*
export const P_PORTS = 16; // offset of: nPairs, (word, mask)*; sections before it depend only on the pod's spec
export const P_IMAGES = 17; // offset of: nImages, (word, mask, scaled size KiB)*
export const P_SPREAD = 18; // offset of: n, (counter, key, maxSkew, hard, selfMatch)*
export const P_ANTI = 19; // offset of: n, (counter, key)*: reject domains where the counter is > 0
export const P_INC = 20; // offset of: n, counter*: counters the pod increments when bound
export const P_IMAGE_MAX = 21; // ImageLocality max threshold (KiB) = 1000 MiB × containers
export const P_FIXED = 22;

export const PF_TOLERATES_UNSCHEDULABLE = 1;
export const OP_ANY = 0; // requirement holds when some (word, mask) pair hits
export const OP_NONE = 1; // requirement holds when no pair hits
export const SPREAD_WORDS = 5;

// ---- Placement output: i32 words per pod ------------------------------------------------------
export const O_NODE = 0; // chosen node slot or -1
export const O_SCORE = 1; // total score
export const O_REASONS = 2; // i32[NUM_REASONS]: nodes rejected per reason (index = reason code)
export const OUT_WORDS = 14;

// Reason codes, in filter order (the first failing filter is a node's reason).
export const R_UNSCHEDULABLE = 1;
export const R_RUNTIME = 2;
export const R_TAINT = 3;
export const R_AFFINITY = 4;
export const R_PORTS = 5;
export const R_PODS = 6;
export const R_CPU = 7;
export const R_MEMORY = 8;
export const R_EPHEMERAL = 9;
export const R_SPREAD = 10;
export const R_ANTI = 11;
export const NUM_REASONS = 12;

// ---- Image locality (imagelocality/image_locality.go), in KiB ---------------------------------
export const IMG_MIN_KIB = 23 * 1024; // minThreshold 23 MB
export const IMG_MAX_KIB = 1000 * 1024; // maxContainerThreshold 1000 MB per container

// ---- Load balancer region: i32 words at the balancer pointer ----------------------------------
export const L_COUNT = 0; // number of endpoints N
export const L_SIZE = 1; // Maglev lookup table size M (a prime)
export const L_WEIGHTS = 2; // i32[N] endpoint weights (0 = never picked)
export const L_STATE = 3; // i32[N]: smooth RR current weights, or active connections (least-conn, p2c)
export const L_TABLE = 4; // i32[M]: Maglev slot → endpoint
export const L_OFFSETS = 5; // i32[N]: Maglev permutation offset, h1(name) mod M
export const L_SKIPS = 6; // i32[N]: Maglev permutation skip, h2(name) mod (M - 1) + 1
export const L_NEXT = 7; // i32[N]: Maglev build scratch: next table position per endpoint
export const L_RNG = 8; // xorshift32 state for power-of-two choices (never 0)
export const L_TOTAL = 9; // smooth RR: sum of weights
export const LB_WORDS = 10;
