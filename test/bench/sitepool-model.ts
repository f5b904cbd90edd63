// A discrete-event model of one Aegir server's serial task queue with a warm pool, on a virtual
// clock (no sleeps, seeded): orders arrive, are placed, claim a spare or queue an install; the
// pool refills. The decisions are the product's own code: the pool size (poolTarget and
// orderRate, reconcilers/sitepool/size.ts), the refill/discard step (planPool, plan.ts, fed the
// same queue and waiting counts the SitePool reconciler computes) and the claim order (the first
// ready spare of the record that is no clone's source, to the order placed first, as claim.ts
// does, with its copy of the last spare where a clone is far shorter than an install; refills
// clone the newest ready spare where the policy lets them; pool tasks run in their own process
// outside the serial queue, or a claim's task starts beside a running pool task, where the policy
// says so: run-task-beside's rule). Tasks running at once share the server (processor sharing at
// an assumed contention). What is modelled
// instead of run: the drush commands' durations (DesModelTimes, from the simulator's benchmark
// latency) and the controllers' polling through the shared server-status cache. sitepool.ts
// checks the model against the real controllers on the simulated Aegir (the calibration rows).
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";
import { type RefillKind, SitePoolSpec, type Spare } from "../../crds/sitepool.ts";
import { ASSUMED_CLONE_SECONDS } from "../../reconcilers/sitepool/claim.ts";
import { effectiveTarget, planPool } from "../../reconcilers/sitepool/plan.ts";
import { DEFAULT_RENAME_TIMING, nextRenameLook, RenameDurations } from "../../reconcilers/sitepool/rename-timing.ts";
import { orderRate, poolSize, sizingRate } from "../../reconcilers/sitepool/size.ts";
import type { SpareView } from "../../reconcilers/sitepool/spares.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";
import { benchServer, PLATFORM } from "./convergence.ts";

/** Virtual milliseconds of the steps the model does not run, from BENCHMARK_LATENCY's command costs. */
export interface DesModelTimes {
  installMs: number;
  /** A fresh spare's migrate (the rename). */
  spareMigrateMs: (draw: number) => number;
  /** A fresh spare's clone (the copy and provision-clone's inline verifies). */
  spareCloneMs: (draw: number) => number;
  /** hosting-queued's pause before each task. */
  taskStartDelayMs: number;
  /** HostedSite created to its task queued: the status read and the create-site or queue-task command. */
  placeMs: number;
  /** HostedSite created to placed on the server and its claim written: the status read. */
  claimMs: number;
  /** One status read: after a write drops the cached status, the next reader's fetch takes this long. */
  statusReadMs: number;
  /** A finished task noticed (see statusCacheMaxAgeMs) to the welcome mail: the convergence commands. */
  convergeAfterInstallMs: number;
  /** The same after a rename: the scrub comes first. */
  convergeAfterRenameMs: number;
  /** A look that sees the rename ended to the claim record dropped: its status read and the scrub. */
  claimSettledMs: number;
  /** The HostedSite and SitePool reconcilers look again this often while a task runs. */
  progressPollMs: number;
  /**
   * They read the server's status through a shared cache of this age (half the poll interval),
   * dropped after a write of their own: a finished task is seen at the first progress poll after
   * the first read of the server at or after its end.
   */
  statusCacheMaxAgeMs: number;
  /** The pool's create-site command (an install is queued when it returns). */
  spareCreateMs: number;
  /** Enabling the baseline on an installed spare (one php-eval). */
  spareEnableMs: number;
  deleteMs: number;
}

export interface DesPolicy {
  bounds: { min: number; max: number };
  rateWindowMinutes: number;
  /** No pool at all: every order installs. */
  poolOff?: boolean;
  /** Refills only until `refillsUntilMs` (the initial fill); none after. */
  refillsUntilMs?: number;
  /** The pool counts unplaced new orders and recorded claims whose rename is not queued yet as waiting customers. */
  seesPendingOrders: boolean;
  /** A claimer waiting on its rename reads the server afresh at each progress poll (not through the cache). */
  claimReadsFresh: boolean;
  /**
   * It also looks when the rename is due (queued plus the renames observed so far, or the default)
   * and then every second (nextRenameLook, rename-timing.ts), each look a status read that ends
   * before the next is timed; otherwise every progress poll from the rename's queueing.
   */
  claimLooksWhenDue?: boolean;
  /** Spares ready at time 0 (a pool already filled). */
  initialSpares?: number;
  /** How refills are made (SitePool spec.refill); Clone by default, as the product's. */
  refill?: RefillKind;
  /**
   * A claim's own task (its rename, or its copy of the last spare) queued while hosting-queued runs
   * a pool task is started at once beside it (run-task-beside), one such task at a time; one still
   * queued when the lane frees is started at its claimer's next look.
   */
  besideRefills?: boolean;
  /**
   * The pool's own tasks (spare installs, clones, deletes) start at once in their own process, the
   * command that queues one forking its hosting-task (SitePool spec.refillsInBackground): they
   * never hold hosting-queued, which stays free for customers' tasks.
   */
  refillsInBackground?: boolean;
  /** While two tasks run at once each progresses this many times slower (1: no contention); n at once, 1 + (this - 1)(n - 1). */
  besideSlowdown?: number;
  /** The earlier rules, for the bench's steps: the pool sized for the window's count (not its upper bound) ... */
  sizeForCount?: boolean;
  /** ... and refills copying the only ready spare whatever an install takes. */
  cloneLastAlways?: boolean;
}

export interface OrderOutcome {
  arrivedMs: number;
  claimed: boolean;
  /** Paid (HostedSite created) to welcome mail sent. */
  welcomeMs: number;
  /** The customer's own tasks (its rename or install, and a copy of the last spare made for it): queued to started. */
  queueWaitMs: number;
  /** Of that wait, the time pool tasks (spare installs, clones, deletes) ran while it was queued. */
  poolDelayMs: number;
  /** How much longer the customer's task ran than alone: the contention of tasks running beside it. */
  slowedMs: number;
}

export interface DesResult {
  orders: OrderOutcome[];
  /** The pool target at each order's arrival. */
  targets: number[];
  refills: number;
  /** Of the refills, clones. */
  clones: number;
  /** Per claimed order, the status reads of its claimer from the rename's queueing to seeing it end. */
  renameReads: number[];
  /** The same looks had the claimer looked at every progress poll only. */
  renameReadsEveryPoll: number[];
}

/** `copy`: the clone of the pool's last spare an order has made for itself (claim.ts keepsTemplate). */
type TaskOwner = { kind: "order"; order: number } | { kind: "spare"; spare: number; source?: number } | { kind: "copy"; spare: number; source: number; order: number } | { kind: "delete"; spare: number };

interface Task {
  owner: TaskOwner;
  durationMs: number;
  queuedAt: number;
  startedAt?: number;
  /** Started beside a pool task, not by hosting-queued. */
  beside?: boolean;
  /** A pool task run by its own process, outside hosting-queued. */
  background?: boolean;
  /** Work left, ms at full speed (while it runs). */
  remainingMs?: number;
  /** Its finish, scheduled once it runs (moved whenever a task starts or ends beside it). */
  end?: Event;
  /** A pool task's hold on the queue, its start pause included (in poolRuns). */
  held?: [number, number];
}

interface SpareState {
  domain: string;
  createdAt: number;
  /** `enabling`: the baseline's php-eval is running (not a queue task). */
  state: "installing" | "installed" | "enabling" | "ready" | "claimed" | "discarding" | "gone";
  /** A clone's: the spare copied. */
  source?: SpareState;
  /** A clone of this spare is decided and its task not finished: a rename of it is refused (TaskPending). */
  cloning?: boolean;
  /** This spare is a clone whose task has not finished: it does not exist yet. */
  copying?: boolean;
  /** Made for the order that claimed it (a copy of the last spare), not by a refill. */
  forOrder?: boolean;
  /** Its install or clone task has finished: it exists in Aegir (whether the pool has seen it or not). */
  made?: boolean;
}

interface OrderState {
  arrivedMs: number;
  /** The HostedSite's status names the server (after its first status read). */
  placed: boolean;
  /** Claimed a spare; its rename not yet queued. */
  claimPending: boolean;
  claimed: boolean;
  spare?: SpareState;
  task?: Task;
  /** Its copy of the last spare, queued before its rename. */
  copyTask?: Task;
  poolDelayMs: number;
  slowedMs: number;
  /** Its rename was first refused (the spare's clone pending) at this time. */
  refusedSince?: number;
  welcomeMs?: number;
}

interface Event {
  at: number;
  seq: number;
  run: () => void;
  cancelled?: boolean;
}

const SERVER = "aegir-1";

/** Runs the model over the given arrival times; `random` draws migrate durations. */
export function runDesModel(arrivals: readonly number[], times: DesModelTimes, policy: DesPolicy, random: () => number): DesResult {
  return new DesModel(arrivals, times, policy, random).run();
}

class DesModel {
  private readonly events: Event[] = [];
  private seq = 0;
  private now = 0;
  private readonly queue: Task[] = [];
  private running: Task | undefined;
  /** The claim task started beside the daemon's pool task, if one runs. */
  private besideTask: Task | undefined;
  /** The pool task running in its own process, if one runs. */
  private backgroundTask: Task | undefined;
  /** Every task running, whoever runs it (they share the server), and when their work left was last counted. */
  private readonly runs = new Set<Task>();
  private sharedSince = 0;
  /** Every spare ever (task owners point into it), and those not gone. */
  private readonly spares: SpareState[] = [];
  private readonly live = new Set<SpareState>();
  private readonly orders: OrderState[];
  /** The orders' HostedSites, oldest first, and the first one still inside the rate window. */
  private readonly sites: HostedSite[] = [];
  private windowStart = 0;
  /** When each pool task held the queue (its start pause included). */
  private readonly poolRuns: Array<[number, number]> = [];
  private readonly targets: number[] = [];
  private refills = 0;
  private clones = 0;
  /** The last finished clone's duration (what the SitePool status records as cloneSeconds). */
  private observedCloneMs: number | undefined;
  /** A delete decided, its queue-task not returned yet. */
  private spareInFlight = false;
  /** Finished tasks waiting for the next read of the server's status. */
  private readonly unseen: Array<(fetchedAt: number) => void> = [];
  private fetchToken = 0;
  private welcomed = 0;
  private readonly renames = new RenameDurations();
  private readonly renameReads: number[] = [];
  private readonly renameReadsEveryPoll: number[] = [];
  private readonly pool: SitePool;
  private readonly servers: AegirServer[] = [benchServer(SERVER, 8, false)];
  private readonly epoch = Date.parse("2027-03-01T00:00:00Z");

  private readonly arrivals: readonly number[];
  private readonly times: DesModelTimes;
  private readonly policy: DesPolicy;
  private readonly random: () => number;

  constructor(arrivals: readonly number[], times: DesModelTimes, policy: DesPolicy, random: () => number) {
    this.arrivals = arrivals;
    this.times = times;
    this.policy = policy;
    this.random = random;
    this.orders = arrivals.map((arrivedMs) => ({ arrivedMs, placed: false, claimPending: false, claimed: false, poolDelayMs: 0, slowedMs: 0 }));
    this.pool = {
      apiVersion: "hosting.openatria.com/v1alpha1",
      kind: "SitePool",
      metadata: { name: "pool", generation: 1 },
      spec: SitePoolSpec.parse({ server: SERVER, platform: PLATFORM, size: policy.bounds, rateWindowMinutes: policy.rateWindowMinutes }),
    };
  }

  run(): DesResult {
    for (let i = 0; i < (this.policy.poolOff ? 0 : (this.policy.initialSpares ?? 0)); i++) this.addSpare("ready");
    this.arrivals.forEach((at, i) => this.at(at, () => this.arrive(i)));
    if (!this.policy.poolOff) this.at(0, () => this.poolStep());
    this.scheduleFetch(0);
    for (let event = this.events.shift(); event !== undefined; event = this.events.shift()) {
      if (event.cancelled === true) continue;
      this.now = event.at;
      event.run();
    }
    const orders = this.orders.map((o): OrderOutcome => {
      const task = o.task as Task;
      const waited = (t: Task | undefined) => (t === undefined ? 0 : (t.startedAt as number) - t.queuedAt);
      return { arrivedMs: o.arrivedMs, claimed: o.claimed, welcomeMs: (o.welcomeMs as number) - o.arrivedMs, queueWaitMs: waited(task) + waited(o.copyTask), poolDelayMs: o.poolDelayMs, slowedMs: o.slowedMs };
    });
    return { orders, targets: this.targets, refills: this.refills, clones: this.clones, renameReads: this.renameReads, renameReadsEveryPoll: this.renameReadsEveryPoll };
  }

  private at(at: number, run: () => void): Event {
    const event: Event = { at, seq: this.seq++, run };
    let i = this.events.length;
    while (i > 0 && ((this.events[i - 1] as Event).at > at || ((this.events[i - 1] as Event).at === at && (this.events[i - 1] as Event).seq > event.seq))) i--;
    this.events.splice(i, 0, event);
    return event;
  }

  private arrive(i: number): void {
    const order = this.orders[i] as OrderState;
    const created = new Date(this.epoch + this.now).toISOString();
    this.sites.push(hostedSite({ domain: `order-${i}.sites.example.com`, server: SERVER }, { name: `order-${i}`, creationTimestamp: created }));
    if (!this.policy.poolOff) {
      this.targets.push(effectiveTarget(this.target(), this.cloneAllowed(), this.policy.bounds.max));
      // The pool's watch sees the new HostedSite at once: it may decide before the order is placed.
      this.poolStep();
    }
    this.at(this.now + this.times.claimMs, () => this.claim(order));
    this.at(this.now + this.times.placeMs, () => this.place(order));
  }

  /** The first status read is done: the order is placed on the server and claims a spare if one is ready. */
  private claim(order: OrderState): void {
    order.placed = true;
    // A clone's source goes last: its rename has to wait for the clone.
    // With none ready, a copy under way: it is a spare sooner than an install would be.
    if (this.policy.poolOff) return;
    // Ready first, then made but without the baseline yet (claim.ts: a finished copy or install the pool has not looked at).
    const ready = [...[...this.live].filter((s) => s.state === "ready"), ...[...this.live].filter((s) => s.made === true && (s.state === "installing" || s.state === "installed" || s.state === "enabling"))];
    const free = ready.filter((s) => !this.isCloneSource(s));
    const underWay = this.liveSpare((s) => s.copying === true && s.state === "installing");
    const spare = free[0] ?? ready[0] ?? underWay;
    if (spare === undefined) return;
    // What the pool will have besides: copies and installs under way, unclaimed.
    const coming = [...this.live].filter((s) => s.state === "installing" && s.made !== true);
    if (ready.length + coming.length === 1 && this.keepsTemplate()) {
      this.copyFor(order, spare);
      return;
    }
    spare.state = "claimed";
    order.spare = spare;
    order.claimed = true;
    order.claimPending = true;
    this.poolStep();
  }

  /** The order's own clone of the last spare (queued by its claimer); it takes the copy, the spare stays. */
  private copyFor(order: OrderState, last: SpareState): void {
    const index = this.addSpare("claimed");
    const copy = this.spares[index] as SpareState;
    Object.assign(copy, { source: last, copying: true, forOrder: true });
    Object.assign(order, { spare: copy, claimed: true, claimPending: true });
    const source = this.spares.indexOf(last);
    const durationMs = this.times.spareCloneMs(this.random());
    // The claimer queues it; Aegir refuses it (the claimer looks again at its next poll) while the
    // source is still being made or has a clone of its own pending: one task per node.
    const queue = () => {
      if (last.copying === true || last.cloning === true) return this.at(this.now + this.times.progressPollMs, queue);
      last.cloning = true;
      this.at(this.now + this.times.spareCreateMs, () => (order.copyTask = this.enqueue({ kind: "copy", spare: index, source, order: this.orders.indexOf(order) }, durationMs)));
    };
    queue();
    this.poolStep();
  }

  /** claim.ts keepsTemplate: refills clone and a clone (seen, else assumed) takes less than half an install. */
  private keepsTemplate(): boolean {
    return this.cloneAllowed() && 2 * (this.observedCloneMs ?? ASSUMED_CLONE_SECONDS * 1000) < this.times.installMs;
  }

  /** The create-site or the rename's queue-task returns: the order's task is in the queue. */
  private place(order: OrderState): void {
    // Aegir refuses the rename (TaskPending) while the spare's clone is pending: the claimer looks again at its next poll.
    if (order.spare?.cloning === true || order.spare?.copying === true) {
      order.refusedSince ??= this.now;
      this.at(this.now + this.times.progressPollMs, () => this.place(order));
      return;
    }
    // The time the rename could not be queued behind a refill's clone is a delay the pool caused.
    if (order.refusedSince !== undefined && order.spare?.forOrder !== true) order.poolDelayMs += this.now - order.refusedSince;
    order.claimPending = false;
    const durationMs = order.claimed ? this.times.spareMigrateMs(this.random()) : this.times.installMs;
    const task = this.enqueue({ kind: "order", order: this.orders.indexOf(order) }, durationMs);
    order.task = task;
    this.poolStep();
  }

  private enqueue(owner: TaskOwner, durationMs: number): Task {
    const task: Task = { owner, durationMs, queuedAt: this.now };
    if (this.policy.refillsInBackground === true && (owner.kind === "spare" || owner.kind === "delete")) {
      // Its own hosting-task process: the bootstrap the daemon's pause stands for, then it runs.
      this.backgroundTask = task;
      task.background = true;
      this.scheduleFetch(this.now + this.times.statusReadMs);
      this.at(this.now + this.times.taskStartDelayMs, () => this.startRun(task));
      return task;
    }
    this.queue.push(task);
    this.scheduleFetch(this.now + this.times.statusReadMs);
    this.pump();
    // The claimer's run-task-beside follows its queue-task.
    if (isClaimTask(task, this.orders)) this.at(this.now + this.times.statusReadMs, () => this.tryBeside(task));
    return task;
  }

  /**
   * run-task-beside: start a claim's queued task now if hosting-queued is running a pool task and
   * no other task runs beside it; else its claimer tries again at its next look while it is queued.
   */
  private tryBeside(task: Task): void {
    const running = this.running;
    if (this.policy.besideRefills !== true || task.startedAt !== undefined || !this.queue.includes(task)) return;
    // An order's task (its install or rename) is a customer's; run-task-beside takes an order's copy of the last spare (a spare's clone) for pool work.
    if (running?.startedAt === undefined || this.besideTask !== undefined || running.owner.kind === "order") {
      const poll = this.times.progressPollMs;
      this.at(task.queuedAt + (Math.floor((this.now - task.queuedAt) / poll) + 1) * poll + this.times.statusReadMs, () => this.tryBeside(task));
      return;
    }
    this.queue.splice(this.queue.indexOf(task), 1);
    this.besideTask = task;
    task.beside = true;
    this.startRun(task);
  }

  /** A task starts running: processor sharing with every task running, each end moved to match. */
  private startRun(task: Task): void {
    this.shareUntilNow();
    task.startedAt = this.now;
    task.remainingMs = task.durationMs;
    this.runs.add(task);
    this.rescheduleRuns();
  }

  /** Counts down the work left of the tasks running, at the rate they shared since the last start or end. */
  private shareUntilNow(): void {
    const rate = this.shareRate();
    for (const task of this.runs) task.remainingMs = (task.remainingMs as number) - (this.now - this.sharedSince) * rate;
    this.sharedSince = this.now;
  }

  private shareRate(): number {
    return this.runs.size <= 1 ? 1 : 1 / (1 + ((this.policy.besideSlowdown ?? 1) - 1) * (this.runs.size - 1));
  }

  private rescheduleRuns(): void {
    const rate = this.shareRate();
    for (const task of this.runs) {
      const at = this.now + (task.remainingMs as number) / rate;
      if (task.held !== undefined) task.held[1] = at;
      if (task.end?.at === at) continue;
      if (task.end !== undefined) task.end.cancelled = true;
      task.end = this.at(at, () => this.finish(task));
    }
  }

  /** hosting-queued: one task at a time, oldest first, a pause before each. */
  private pump(): void {
    if (this.running !== undefined) return;
    const task = this.queue.shift();
    if (task === undefined) return;
    this.running = task;
    const held = this.now;
    this.at(this.now + this.times.taskStartDelayMs, () => {
      if (task.owner.kind === "order" || task.owner.kind === "copy") {
        task.startedAt = this.now;
        this.chargePoolRuns(task);
      } else {
        task.held = [held, this.now + task.durationMs];
        this.poolRuns.push(task.held);
      }
      this.startRun(task);
    });
  }

  /** The part of a customer task's wait (its rename, install or copy) during which pool tasks held the queue. */
  private chargePoolRuns(task: Task): void {
    if (task.owner.kind !== "order" && task.owner.kind !== "copy") return;
    const order = this.orders[task.owner.order] as OrderState;
    const started = task.startedAt as number;
    for (const [from, to] of this.poolRuns) order.poolDelayMs += Math.max(0, Math.min(to, started) - Math.max(from, task.queuedAt));
    // Runs that ended before this task was queued cannot delay later ones either.
    while (this.poolRuns.length > 0 && (this.poolRuns[0] as [number, number])[1] <= task.queuedAt) this.poolRuns.shift();
  }

  private finish(task: Task): void {
    this.shareUntilNow();
    this.runs.delete(task);
    this.rescheduleRuns();
    if (task.beside === true) this.besideTask = undefined;
    else if (task.background === true) this.backgroundTask = undefined;
    else this.running = undefined;
    const owner = task.owner;
    if (owner.kind === "order") {
      const order = this.orders[owner.order] as OrderState;
      order.slowedMs = this.now - (task.startedAt as number) - task.durationMs;
      const converge = order.claimed ? this.times.convergeAfterRenameMs : this.times.convergeAfterInstallMs;
      // `look`: when the look that sees it ended began (its status read is the convergence's first command).
      const converged = (look: number) => {
        // The scrub done, the claim record is dropped.
        if (order.spare !== undefined) this.at(look + this.times.claimSettledMs, () => this.dropSpare(order.spare as SpareState));
        this.at(look + converge, () => {
          order.welcomeMs = this.now;
          this.welcomed++;
          this.poolStep();
        });
      };
      // A look that began before the end may see it (its read ends after): that is decided now.
      if (order.claimed && this.policy.claimLooksWhenDue === true) converged(this.renameSeen(task));
      else this.whenSeen(task.queuedAt, order.claimed && this.policy.claimReadsFresh, () => converged(this.now));
    } else if (owner.kind === "spare") {
      const spare = this.spares[owner.spare] as SpareState;
      spare.made = true;
      if (owner.source !== undefined) {
        (this.spares[owner.source] as SpareState).cloning = false;
        spare.copying = false;
        this.observedCloneMs = task.durationMs;
      }
      this.whenSeen(task.queuedAt, false, () => {
        // Claimed while it was being made: the claimer's now.
        if (spare.state === "claimed") return;
        spare.state = "installed";
        this.poolStep();
      });
    } else if (owner.kind === "copy") {
      (this.spares[owner.source] as SpareState).cloning = false;
      (this.spares[owner.spare] as SpareState).copying = false;
      this.observedCloneMs = task.durationMs;
    } else {
      this.dropSpare(this.spares[owner.spare] as SpareState);
    }
    this.pump();
    this.poolStep();
  }

  /**
   * The look of a claimer that sees its finished rename (the task ended now): from the rename's
   * queueing, looks as nextRenameLook times them, each a status read (statusReadMs) seeing the
   * task as it is when the read ends; one that sees it not yet started counts from itself.
   */
  private renameSeen(task: Task): number {
    const read = this.times.statusReadMs;
    const estimate = this.renames.estimate(SERVER);
    const looks = (rule: (after: number, queuedAt: number) => number): { seen: number; queuedAt: number; reads: number } => {
      let queuedAt = task.queuedAt;
      let after = task.queuedAt;
      for (let reads = 1; ; reads++) {
        const look = after + rule(after, queuedAt);
        if (look + read >= this.now) return { seen: look, queuedAt, reads };
        if (look + read < (task.startedAt as number)) queuedAt = look;
        after = look + read;
      }
    };
    const poll = this.times.progressPollMs;
    const due = looks((after, queuedAt) => Math.min(poll, nextRenameLook(after, queuedAt, estimate, DEFAULT_RENAME_TIMING) ?? poll));
    this.renames.observe(SERVER, due.seen - due.queuedAt);
    this.renameReads.push(due.reads);
    this.renameReadsEveryPoll.push(looks(() => poll).reads);
    return due.seen;
  }

  /** `run` at the waiter's first progress poll (counted from `origin`) after the next read of the server, or at once if it reads afresh. */
  private whenSeen(origin: number, fresh: boolean, run: () => void): void {
    const poll = this.times.progressPollMs;
    if (fresh) {
      this.at(origin + Math.ceil((this.now - origin) / poll) * poll, run);
      return;
    }
    this.unseen.push((fetched) => void this.at(origin + Math.ceil((fetched - origin) / poll) * poll, run));
  }

  /** A write drops the cached status: the next read, a command later, fetches it. */
  private scheduleFetch(at: number): void {
    const token = ++this.fetchToken;
    if (this.welcomed === this.orders.length) return;
    this.at(at, () => {
      if (token !== this.fetchToken) return;
      for (const seen of this.unseen.splice(0)) seen(this.now);
      this.scheduleFetch(this.now + this.times.statusCacheMaxAgeMs);
    });
  }

  /** claim.ts's isCloneSource: a refill's clone of it is recorded and not ready yet, or a claimed copy of it is not made yet. */
  private isCloneSource(spare: SpareState): boolean {
    for (const s of this.live) if (s.source === spare && (s.copying === true || (s.state !== "ready" && s.state !== "claimed"))) return true;
    return false;
  }

  private liveSpare(match: (spare: SpareState) => boolean): SpareState | undefined {
    for (const spare of this.live) if (match(spare)) return spare;
    return undefined;
  }

  private addSpare(state: SpareState["state"]): number {
    const spare: SpareState = { domain: `spare-${this.spares.length}`, createdAt: this.now, state };
    this.live.add(spare);
    return this.spares.push(spare) - 1;
  }

  private dropSpare(spare: SpareState): void {
    spare.state = "gone";
    this.live.delete(spare);
    this.poolStep();
  }

  private target(): number {
    // Orders older than the window no longer count: only the others are passed (orderRate checks again).
    const since = this.now - this.policy.rateWindowMinutes * 60_000;
    while (this.windowStart < this.sites.length && (this.arrivals[this.windowStart] as number) <= since) this.windowStart++;
    const rate = orderRate(this.pool, this.sites.slice(this.windowStart), this.servers, new Date(this.epoch + this.now));
    // As the SitePool reconciler: one refill is a clone's time once one was seen, where refills clone.
    const refillMs = this.cloneAllowed() && this.observedCloneMs !== undefined ? this.observedCloneMs : this.times.installMs;
    const sized = this.policy.sizeForCount === true ? rate : sizingRate(rate, this.policy.rateWindowMinutes);
    return poolSize(rate, cycleSeconds(this.times, refillMs), this.policy.bounds, sized).target;
  }

  private cloneAllowed(): boolean {
    return (this.policy.refill ?? "Clone") === "Clone";
  }

  /** One SitePool reconcile: the product's planPool on the model's state, its action applied. */
  private poolStep(): void {
    if (this.policy.poolOff) return;
    const views = [...this.live].map((s): SpareView => {
      const record: Spare = {
        domain: s.domain,
        state: s.state === "ready" ? "Ready" : s.state === "claimed" ? "Claimed" : s.state === "discarding" ? "Discarding" : "Installing",
        createdAt: new Date(this.epoch + s.createdAt).toISOString(),
        ...(s.source === undefined ? {} : { source: s.source.domain }),
      };
      const condition = s.state === "discarding" ? "discard" : s.state === "enabling" ? "installing" : s.state;
      return { record, site: undefined, condition };
    });
    const refillsAllowed = this.policy.refillsUntilMs === undefined || this.now < this.policy.refillsUntilMs;
    const cloneAllowed = this.cloneAllowed();
    const available = views.filter((v) => v.condition === "ready" || v.condition === "installing").length;
    // Suppressed refills: the target never above what is there (the clone floor included).
    const target = refillsAllowed ? this.target() : Math.min(effectiveTarget(this.target(), cloneAllowed, this.policy.bounds.max), available);
    const placedWaiting = this.orders.filter((o) => o.arrivedMs <= this.now && o.task === undefined && !o.claimed && o.placed).length;
    const unseen = this.orders.filter((o) => o.arrivedMs <= this.now && o.task === undefined && (!o.placed || o.claimPending)).length;
    const plan = planPool({
      views,
      target,
      features: [],
      platformUsable: true,
      queueBusy: this.running !== undefined || this.besideTask !== undefined || this.backgroundTask !== undefined || this.queue.length > 0 || this.spareInFlight,
      customersWaiting: placedWaiting + (this.policy.seesPendingOrders ? unseen : 0),
      nextDomain: "next",
      now: new Date(this.epoch + this.now),
      cloneAllowed: cloneAllowed && refillsAllowed,
      cloneLastSpare: this.policy.cloneLastAlways === true || this.keepsTemplate(),
      maxSpares: refillsAllowed ? this.policy.bounds.max : target,
    });
    const action = plan.action;
    if (action === undefined) return;
    if (action.kind === "EnableFeatures") {
      const spare = this.spares.find((s) => s.domain === action.domain) as SpareState;
      spare.state = "enabling";
      this.at(this.now + this.times.spareEnableMs, () => {
        // Claimed meanwhile: the claimer's now.
        if (spare.state !== "enabling") return;
        spare.state = "ready";
        this.poolStep();
      });
      return;
    }
    if (action.kind === "Delete") {
      const index = this.spares.findIndex((s) => s.domain === action.domain);
      (this.spares[index] as SpareState).state = "discarding";
      this.spareInFlight = true;
      this.at(this.now + this.times.spareCreateMs, () => {
        this.spareInFlight = false;
        this.enqueue({ kind: "delete", spare: index }, this.times.deleteMs);
      });
      return;
    }
    const index = this.addSpare("installing");
    this.refills++;
    if (action.kind === "Clone") {
      const source = this.spares.findIndex((s) => s.domain === action.source);
      const spare = this.spares[index] as SpareState;
      const copied = this.spares[source] as SpareState;
      spare.source = copied;
      spare.copying = true;
      copied.cloning = true;
      this.clones++;
      const durationMs = this.times.spareCloneMs(this.random());
      this.at(this.now + this.times.spareCreateMs, () => this.enqueue({ kind: "spare", spare: index, source }, durationMs));
      return;
    }
    this.at(this.now + this.times.spareCreateMs, () => this.enqueue({ kind: "spare", spare: index }, this.times.installMs));
  }
}

/** A claim's own task: a claimed order's rename or its copy of the last spare. */
function isClaimTask(task: Task, orders: readonly OrderState[]): boolean {
  return task.owner.kind === "copy" || (task.owner.kind === "order" && (orders[task.owner.order] as OrderState).claimed);
}

/** What the pool controller observes of one claim → ready-again cycle: a rename (the median draw) and a refill (an install unless given). */
export function cycleSeconds(times: DesModelTimes, refillMs = times.installMs): { renameSeconds: number; refillSeconds: number } {
  return { renameSeconds: times.spareMigrateMs(0.5) / 1000, refillSeconds: refillMs / 1000 };
}
