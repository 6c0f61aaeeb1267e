// @vitest-environment jsdom
/**
 * The end-of-call survey, rendered: scores on the organisation's scale, issue tags for low scores,
 * *Done* keeping the answers (an incomplete survey refused in words), and *Attach logs and
 * report* turning the answers into a report.
 */
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import SurveyScreen from "./SurveyScreen.svelte";
import { SurveyState, categoryOf } from "./survey.svelte";
import { fakeBackend, overview } from "../testing/backend";
import type { Survey } from "../backend";

function setup(overrides: Parameters<typeof fakeBackend>[0] = {}) {
  const kept: Survey[] = [];
  const backend = fakeBackend({
    overview: async () => ({ ...overview, survey_call: "call-7" }),
    keepSurvey: async (survey) => {
      if (!survey.overall) throw { code: "report_invalid", message: "rate the call overall (1 to 5); the other ratings are optional" };
      kept.push(survey);
      return { answered_at: "2026-11-25T10:00:00Z", survey };
    },
    ...overrides,
  });
  return { backend, kept };
}

describe("SurveyScreen", () => {
  it("a good call: one score, Done, kept; no issues and no logs offered", async () => {
    const { backend, kept } = setup();
    const survey = new SurveyState(backend);
    await survey.load();
    let reported = false;
    render(SurveyScreen, { survey, onReport: () => (reported = true), onClose: () => {} });
    expect(screen.getAllByRole("radio", { name: /\d/ })).toHaveLength(20);
    await fireEvent.click(screen.getByTestId("score-overall-5"));
    expect(screen.queryByTestId("issues-overall")).toBeNull();
    expect(screen.queryByTestId("survey-attach")).toBeNull();
    await fireEvent.click(screen.getByTestId("survey-done"));
    await waitFor(() => expect(screen.getByTestId("survey-kept").textContent).toContain("nothing was sent"));
    expect(kept).toEqual([
      { call_id: "call-7", overall: { score: 5, scale: overview.survey_scale, issues: [] }, audio: null, video: null, screenshare: null, comment: "" },
    ]);
    expect(reported).toBe(false);
  });

  it("without the overall rating, Done is refused in words and nothing is kept", async () => {
    const { backend, kept } = setup();
    const survey = new SurveyState(backend);
    await survey.load();
    render(SurveyScreen, { survey, onReport: () => {}, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("score-audio-4"));
    await fireEvent.click(screen.getByTestId("survey-done"));
    expect((await screen.findByRole("alert")).textContent).toContain("rate the call overall (1 to 5)");
    expect(kept).toEqual([]);
  });

  it("a low score shows its issues; ticked, they make a report with the answers", async () => {
    const { backend } = setup();
    const survey = new SurveyState(backend);
    await survey.load();
    let reported = false;
    render(SurveyScreen, { survey, onReport: () => (reported = true), onClose: () => {} });
    await fireEvent.click(screen.getByTestId("score-overall-2"));
    await fireEvent.click(screen.getByTestId("score-audio-1"));
    expect(screen.getByTestId("issues-audio").textContent).toContain("I couldn't hear others");
    await fireEvent.click(screen.getByTestId("issue-audio-Echo"));
    await fireEvent.input(screen.getByTestId("survey-comment"), { target: { value: "They heard themselves." } });
    await fireEvent.click(screen.getByTestId("survey-attach"));
    expect(reported).toBe(true);
    const draft = survey.report();
    expect(draft).toMatchObject({
      summary: "Call feedback: 2 of 5 · Echo",
      description: "They heard themselves.",
      category: "audio",
      call_ids: ["call-7"],
    });
    expect(draft.survey?.audio).toEqual({ score: 1, scale: overview.survey_scale, issues: ["Echo"] });
    // A score raised above the threshold takes its ticked issues away.
    survey.rate("audio", 4);
    expect(survey.issues.audio).toEqual([]);
  });

  it("an organisation's scale of 0 to 10 offers eleven scores", async () => {
    const { backend } = setup({
      overview: async () => ({ ...overview, survey_call: null, survey_scale: { lower_bound: 0, upper_bound: 10, low_score_threshold: 4 } }),
    });
    const survey = new SurveyState(backend);
    await survey.load();
    expect(survey.choices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    survey.rate("overall", 4);
    expect(survey.isLow("overall")).toBe(true);
  });
});

describe("categoryOf", () => {
  it("points the report at what the ticked issues say", () => {
    const none = { overall: [], audio: [], video: [], screenshare: [] };
    expect(categoryOf({ ...none, overall: ["CallCannotJoin"] })).toBe("cannot_join");
    expect(categoryOf({ ...none, overall: ["CallEndedUnexpectedly"], video: ["Freezes"] })).toBe("dropped");
    expect(categoryOf({ ...none, screenshare: ["LargeDelay"] })).toBe("screen_share");
    expect(categoryOf(none)).toBe("other");
  });
});
