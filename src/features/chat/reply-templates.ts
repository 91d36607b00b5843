import { tokenize } from './text-similarity.js';

/** What a template may quote from the conversation. */
export interface TemplateContext {
  /** The customer's message. */
  readonly text: string;
  /** The ticket's subject, if any. */
  readonly subject: string | null;
  /** True when staff already answered earlier in this ticket (no second greeting). */
  readonly ongoing: boolean;
}

interface Template {
  readonly intent: string;
  /** Stemmed keywords (as `tokenize` yields them); the template with the most hits wins. */
  readonly keywords: ReadonlySet<string>;
  readonly reply: (context: TemplateContext) => string;
}

const keys = (words: string): ReadonlySet<string> => new Set(tokenize(words));

const TEMPLATES: readonly Template[] = [
  {
    intent: 'account_access',
    keywords: keys('password passwords login log logging sign signing locked lockout account username reset email verification code 2fa'),
    reply: () =>
      "I'm sorry you're having trouble getting into your account. Please try \"Forgot password\" on the sign-in page; the reset email can take a few minutes, so check your spam folder too. If it still doesn't work, tell me the email address on the account and I'll check it from our side.",
  },
  {
    intent: 'billing',
    keywords: keys('refund refunds payment payments paid charge charged charges invoice billing bill subscription card price fee money receipt'),
    reply: (c) =>
      `Thanks for flagging this${quote(c)}. I'll look into the payment right away. Could you send me the date and amount of the charge (or the invoice number) and the last four digits of the card? I'll confirm the next steps, including any refund, as soon as I've checked.`,
  },
  {
    intent: 'live_class',
    keywords: keys('video camera microphone mic audio sound hear see screen live class session join joining webcam connection lag frozen'),
    reply: () =>
      "Sorry about the trouble with the live class. Please make sure the browser has permission to use your camera and microphone, close other apps that might be using them, and try rejoining from the class page (Chrome or Firefox work best). If it happens again, let me know your browser and device and roughly when it happened.",
  },
  {
    intent: 'coursework',
    keywords: keys('assignment assignments homework quiz quizzes grade grades graded mark marks exam test submit submitted submission deadline due extension'),
    reply: (c) =>
      `Thanks for your message${quote(c)}. I'll check this with the course team. Could you tell me the course and the name of the assignment or quiz? If it's about a deadline, let me know how much extra time you need and I'll see what we can do.`,
  },
  {
    intent: 'enrollment',
    keywords: keys('course courses enroll enrolled enrollment register registration access unlock lesson lessons module schedule start'),
    reply: (c) =>
      `Happy to help with that${quote(c)}. Could you tell me which course you mean and the email address you enrolled with? I'll check the enrollment and access on our side and get back to you here.`,
  },
  {
    intent: 'technical_problem',
    keywords: keys('error bug broken crash crashes crashed working work load loading page blank stuck slow freeze app website problem issue'),
    reply: (c) =>
      `Thanks for reporting this${quote(c)}. To track it down, could you tell me which page you were on, what you clicked just before, and the exact error message (a screenshot helps)? Also, which browser and device are you using? Meanwhile, refreshing the page or signing out and back in sometimes clears it.`,
  },
  {
    intent: 'gratitude',
    keywords: keys('thank thanks thx appreciate appreciated great perfect solved works resolved fixed helpful'),
    reply: () => "You're welcome, I'm glad that's sorted! Is there anything else I can help you with before I close this ticket?",
  },
];

/**
 * A reply built from the customer's own message: the template whose keywords it mentions most, quoting what it
 * is about; with no keyword at all, a generic answer that still names the topic.
 */
export function templateReply(context: TemplateContext): { readonly intent: string; readonly reply: string } {
  const tokens = new Set(tokenize(context.text));
  let best: Template | undefined;
  let bestHits = 0;
  for (const template of TEMPLATES) {
    let hits = 0;
    for (const token of tokens) if (template.keywords.has(token)) hits++;
    if (hits > bestHits) {
      best = template;
      bestHits = hits;
    }
  }
  const greeting = context.ongoing ? '' : 'Hi, thanks for contacting support! ';
  if (best) return { intent: best.intent, reply: greeting + best.reply(context) };
  if (tokens.size === 0) return { intent: 'greeting', reply: 'Hi! Thanks for reaching out. How can I help you today?' };
  const topic = topicOf(context);
  return {
    intent: 'general',
    reply: `${greeting}I've read your message about "${topic}" and I'm looking into it now. Could you add any details that might help, such as the course or page involved and when it started? I'll get back to you here shortly.`,
  };
}

function quote(context: TemplateContext): string {
  const topic = topicOf(context);
  return topic ? ` about "${topic}"` : '';
}

/** A short phrase naming what the customer wrote about: the subject, or the first sentence, shortened. */
export function topicOf(context: TemplateContext): string {
  const source = context.subject?.trim() || context.text.trim();
  const first = (source.split(/(?<=[.!?])\s+|\n/)[0] ?? source).replace(/[.!?]+$/, '').trim();
  if (first.length <= 80) return first;
  const cut = first.slice(0, 80);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 40))}…`;
}
