/**
 * The end-of-call survey's state, on the calling SDK's model: an overall rating (required), then
 * audio, video and screen share (each optional), each on the organisation's scale; a score at or
 * below the threshold shows that category's issue tags. *Done* keeps the answers on this computer;
 * *Attach logs and report* hands them to the report flow, which sends them with the logs.
 */
import {
  asApiError, type ApiError, type Backend, type Category, type ReportDraft, type Scale, type Survey,
} from "../backend";

export type Part = "overall" | "audio" | "video" | "screenshare";
export const PARTS: { part: Part; label: string }[] = [
  { part: "overall", label: "The call overall" },
  { part: "audio", label: "Sound" },
  { part: "video", label: "Video" },
  { part: "screenshare", label: "Screen sharing" },
];

/** Each category's issue tags (the SDK's names) with the words the user sees. */
export const ISSUES: Record<Part, [string, string][]> = {
  overall: [
    ["CallCannotJoin", "I couldn't join"],
    ["CallCannotInvite", "I couldn't invite others"],
    ["HadToRejoin", "I had to rejoin"],
    ["CallEndedUnexpectedly", "The call ended unexpectedly"],
    ["OtherIssues", "Something else"],
  ],
  audio: [
    ["NoLocalAudio", "Others couldn't hear me"],
    ["NoRemoteAudio", "I couldn't hear others"],
    ["Echo", "Echo"],
    ["AudioNoise", "Background noise"],
    ["LowVolume", "Too quiet"],
    ["AudioStoppedUnexpectedly", "Sound stopped"],
    ["DistortedSpeech", "Voices were distorted"],
    ["AudioInterruption", "Sound cut in and out"],
    ["OtherIssues", "Something else"],
  ],
  video: [
    ["NoVideoReceived", "I couldn't see others"],
    ["NoVideoSent", "Others couldn't see me"],
    ["LowQuality", "Poor picture"],
    ["Freezes", "The picture froze"],
    ["StoppedUnexpectedly", "Video stopped"],
    ["DarkVideoReceived", "The picture was dark"],
    ["AudioVideoOutOfSync", "Sound and picture out of step"],
    ["OtherIssues", "Something else"],
  ],
  screenshare: [
    ["NoContentLocal", "I couldn't see what I shared"],
    ["NoContentRemote", "I couldn't see what others shared"],
    ["CannotPresent", "I couldn't present"],
    ["LowQuality", "Poor picture"],
    ["Freezes", "It froze"],
    ["StoppedUnexpectedly", "It stopped"],
    ["LargeDelay", "Long delay"],
    ["OtherIssues", "Something else"],
  ],
};

const DEFAULT_SCALE: Scale = { lower_bound: 1, upper_bound: 5, low_score_threshold: 2 };

export class SurveyState {
  scale = $state<Scale>(DEFAULT_SCALE);
  callId = $state<string | null>(null);
  scores = $state<Record<Part, number | null>>({ overall: null, audio: null, video: null, screenshare: null });
  issues = $state<Record<Part, string[]>>({ overall: [], audio: [], video: [], screenshare: [] });
  comment = $state("");
  error = $state<ApiError | null>(null);
  /** The answers were kept on this computer. */
  kept = $state(false);
  busy = $state(false);

  constructor(private readonly backend: Backend) {}

  /** Starts afresh for the call the tray agent asked about, on the organisation's scale. */
  async load(): Promise<void> {
    try {
      const overview = await this.backend.overview();
      this.scale = overview.survey_scale;
      if (overview.survey_call !== this.callId || this.kept) this.reset(overview.survey_call);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  private reset(callId: string | null): void {
    this.callId = callId;
    this.scores = { overall: null, audio: null, video: null, screenshare: null };
    this.issues = { overall: [], audio: [], video: [], screenshare: [] };
    this.comment = "";
    this.error = null;
    this.kept = false;
  }

  /** The scores the scale allows, lowest first. */
  get choices(): number[] {
    const { lower_bound: low, upper_bound: high } = this.scale;
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  }

  /** Whether `part`'s score is low: its issue tags are then offered. */
  isLow(part: Part): boolean {
    const score = this.scores[part];
    return score !== null && score <= this.scale.low_score_threshold;
  }

  rate(part: Part, score: number | null): void {
    this.scores[part] = score;
    if (!this.isLow(part)) this.issues[part] = [];
    this.error = null;
  }

  toggle(part: Part, issue: string, on: boolean): void {
    const now = this.issues[part].filter((i) => i !== issue);
    this.issues[part] = on ? [...now, issue] : now;
  }

  /** A low score or a ticked issue anywhere: the survey offers to attach logs. */
  get somethingWrong(): boolean {
    return PARTS.some(({ part }) => this.isLow(part) || this.issues[part].length > 0);
  }

  /** The answers as the core takes them (an unrated part is left out). */
  get survey(): Survey {
    const rating = (part: Part) => {
      const score = this.scores[part];
      return score === null ? null : { score, scale: $state.snapshot(this.scale), issues: [...this.issues[part]] };
    };
    return {
      call_id: this.callId,
      overall: rating("overall") as Survey["overall"],
      audio: rating("audio") as Survey["audio"],
      video: rating("video") as Survey["video"],
      screenshare: rating("screenshare") as Survey["screenshare"],
      comment: this.comment,
    };
  }

  /** *Done*: the answers kept on this computer; a missing overall rating is said in words. */
  async done(): Promise<void> {
    this.busy = true;
    try {
      await this.backend.keepSurvey(this.survey);
      this.kept = true;
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  /** *Not now*: the survey is set aside. */
  async notNow(): Promise<void> {
    await this.backend.dismissSurvey().catch(() => {});
  }

  /** The report the survey becomes with *Attach logs and report*. */
  report(): Partial<ReportDraft> {
    const overall = this.scores.overall;
    const issueWords = PARTS.flatMap(({ part }) =>
      this.issues[part].map((tag) => ISSUES[part].find(([t]) => t === tag)?.[1] ?? tag),
    );
    const summary = `Call feedback: ${overall ?? "?"} of ${this.scale.upper_bound}${issueWords.length ? ` · ${issueWords.slice(0, 3).join(", ")}` : ""}`;
    return {
      summary: summary.slice(0, 200),
      description: this.comment.trim(),
      category: categoryOf(this.issues),
      call_ids: this.callId ? [this.callId] : [],
      survey: this.survey,
    };
  }
}

/** The report category the ticked issues point to. */
export function categoryOf(issues: Record<Part, string[]>): Category {
  if (issues.overall.includes("CallCannotJoin")) return "cannot_join";
  if (issues.overall.includes("CallEndedUnexpectedly")) return "dropped";
  if (issues.audio.length) return "audio";
  if (issues.video.length) return "video";
  if (issues.screenshare.length) return "screen_share";
  return "other";
}
