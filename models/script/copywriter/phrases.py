"""Phrase banks of the template copywriter: pure data, one table per kind of sentence.

    BANKS["energetic"]["hook"]                  # sentences, one phrasing each
    POINT_FORMS["professional"]["adj"]          # (first-point phrasings, later-point phrasings)
    LIST_FORMS["conversational"]["first"]       # "Number one: {c}." and its kin

Placeholders: {product} the product name; {place} / {home} where the creator films ("the beach",
"my kitchen"; {home} only for a room of one's own); {p} / {P} a selling point mid-sentence /
sentence-initial; {S} a point that is already a sentence; {c} a list item's clause; {n} / {N} a
number word; {ordinal} / {Ordinal}; {count} / {Count}, {reasons}, {things} for list hooks.
Every line is product-agnostic and states no facts (no numbers, no "clinically proven"); a
line states an opinion or an experience, so any product can carry it.
"""

from __future__ import annotations

BANKS: dict[str, dict[str, tuple[str, ...]]] = {
    "conversational": {
        "hook": (
            "Okay, I need to talk about this.", "Okay, listen.",
            "I wasn't going to post this, but I have to.", "Can we talk about this for a second?",
            "So, I found something.", "Okay, real talk for a second.",
            "You guys, I have to show you this.", "I've been meaning to tell you about this.",
            "Honestly, I didn't expect to love this."),
        "hook_named": (
            "Okay, I need to talk about {product}.",
            "Can we talk about {product} for a second?",
            "I wasn't going to post about {product}, but I have to.",
            "Honestly, I didn't expect {product} to be this good.",
            "So, I've been using {product}, and wow.", "Let me tell you about {product}.",
            "You guys, {product} is my new favorite thing."),
        "hook_short": ("Okay, {product}.", "So, {product}."),
        "hook_place": ("Okay, quick one from {place}.",
                       "Coming to you from {place}, because I have to share this."),
        "hook_named_place": ("Quick one from {place}, and it's about {product}.",),
        "hook_list": (
            "{Count} {reasons} I'm obsessed with {product}.",
            "Okay, {count} {things} I love about {product}.",
            "So, {count} {reasons} I keep reaching for {product}.",
            "Let me give you {count} {reasons} to try {product}.",
            "Here's why I love {product}.", "Let me tell you why I love {product}."),
        "hook_more": (
            "Stick with me on this one.", "I'm not even kidding.",
            "This one's different, I promise.",
            "You're going to want to hear this.",
            "I've been dying to share this."),
        "problem": (
            "I was so over products that promise everything and do nothing.",
            "I've tried so many things that just didn't work for me.",
            "Nothing I tried ever really stuck.", "I'd kind of given up, to be honest.",
            "I kept buying stuff and being disappointed.", "It always felt like I was settling.",
            "Everything I tried was either too much or not enough.",
            "I was spending money and getting nothing back.",
            "Finding something that actually works shouldn't be this hard.",
            "My old routine just wasn't cutting it.", "I just wanted something simple that works."),
        "agitate": (
            "And it's not just annoying, it's money down the drain.",
            "Every time, same story: big promises, no results.",
            "You know that feeling when you get your hopes up again?",
            "It's so frustrating, right?",
            "I was ready to stop looking.", "And you don't find out until you've already paid.",
            "I know I'm not the only one.", "It gets old really fast.",
            "And then you're back to square one."),
        "solution": (
            "Then I found {product}.", "Then a friend put me onto {product}.",
            "And then I tried {product}.", "That's where {product} comes in.",
            "{product} changed that for me.", "So I gave {product} a shot, and wow.",
            "Then {product} came along, and that was it."),
        "solution_more": (
            "It just works, and it's so easy.", "It fit right into my routine.",
            "It's the one step I never skip now.", "It does exactly what I wanted it to do.",
            "No fuss, no extra steps.", "It made everything feel so much simpler.",
            "It's the upgrade I didn't know I needed.", "I noticed the difference pretty quickly.",
            "I actually stuck with it, which says a lot."),
        "proof": (
            "I've been using it every day.", "I keep reaching for it, every single day.",
            "I'm kind of obsessed.", "My friends keep asking what I'm using.",
            "I didn't think I'd care this much, but I do.", "It's a non-negotiable for me now.",
            "I actually look forward to using it.", "I've already told all my friends about it.",
            "It's one of those things you don't know you need until you have it.",
            "I'm picky, and I'm genuinely impressed.", "It just makes my day a little easier.",
            "No regrets at all.", "It feels like a little treat every time.",
            "It's been a total game changer for me.", "I get the hype now."),
        "proof_home": ("I keep it right here in {home} now.", "It hasn't left {home} since."),
        "reaction": (
            "That alone sold me.", "Which, honestly, is rare.", "That's a big one for me.",
            "That part surprised me.", "That's the part I tell everyone about.", "Huge, right?",
            "It makes such a difference."),
        "cta_lead": (
            "Trust me on this one.", "You're going to love it.",
            "If you've been on the fence, this is your sign.", "Seriously, just try it.",
            "Don't sleep on this one.", "You can thank me later.",
            "I'm telling you, it's worth it.", "Go see for yourself."),
        "cta_default": ("Tap the link to get yours.", "Grab yours with the link below.",
                        "Get yours below."),
        # One- to three-word lines for the shortest segments (very slow voices, 3 s segments).
        "tiny": ("Seriously.", "I mean it.", "No joke.", "Big difference.", "Worth it.", "So good.",
                 "Love it.", "Obsessed.", "Real talk.", "Every day.", "Game changer.",
                 "Not kidding."),
        "tiny_problem": ("Nothing worked.", "So frustrating.", "Such a letdown.", "Sound familiar?",
                         "Every time.", "Not again.", "Ugh.", "Total waste."),
        "generic_items": (
            "it actually does what it says", "it fits right into my routine", "it's so easy to use",
            "it makes my day a little easier", "it feels like a real upgrade",
            "it's simple, with no extra steps", "it just feels good to use",
            "I keep coming back to it"),
    },
    "energetic": {
        "hook": (
            "Stop scrolling!", "Wait, you need to see this right now!", "Okay, this is big!",
            "You're not ready for this!", "Drop everything!", "This changed everything for me!",
            "Listen up!", "Okay, I have to show you something!"),
        "hook_named": (
            "Stop scrolling, you need {product}!", "{product} is the real deal!",
            "Okay, {product} just changed everything!", "You need {product} in your life!",
            "Meet {product}, your new favorite!", "Everyone, meet {product}!"),
        "hook_short": ("{product}!", "Hello, {product}!"),
        "hook_place": ("Live from {place}, and I have news!",
        "Straight from {place}, you need this!"),
        "hook_named_place": ("Live from {place}, it's {product}!",),
        "hook_list": (
            "{Count} {reasons} you need {product}!",
            "{Count} {reasons} I'm obsessed with {product}!",
            "{product}? {Count} {reasons}, let's go!", "Here's why {product} rocks!",
            "Why I love {product}, fast!"),
        "hook_more": (
            "You'll thank me later!", "No, really, listen!", "This one's special!",
            "I'm so excited to share this!", "Buckle up, friends!", "It's that good, I promise!",
            "You're going to want to see this!", "I've been dying to show you this!"),
        "problem": (
            "Nothing worked. Nothing!", "I tried everything, and I mean everything!",
            "So much hype, so little payoff!", "I was so done with stuff that doesn't work!",
            "Wasted money, every single time!", "Same promises, same letdown, every time!",
            "I was so over it!", "Tired of settling? Same!",
            "Big promises, zero results, over and over!", "Every product I tried let me down!"),
        "agitate": (
            "It's so frustrating!", "And you keep paying for it, again and again!",
            "Enough is enough, right?", "Who has time for that?", "Ugh, it's the worst feeling!",
            "We deserve so much better!", "And you just keep hoping it'll work!"),
        "solution": (
            "Enter {product}!", "Then {product} happened, and wow!",
            "Then I found {product}, and everything changed!", "{product} fixed all of that!",
            "Say hello to {product}!", "Then I tried {product}, total game changer!"),
        "solution_more": (
            "It just works, every time!", "So easy, I love it!", "No fuss, no stress!",
            "It's a total upgrade!", "Finally, something that actually delivers!",
            "It's exactly what I needed!", "It fits right into my day!",
            "Zero hassle, all good vibes!"),
        "proof": (
            "I use it every single day!", "Everyone keeps asking what I'm using!",
            "Best decision I've made all year!", "I'm never going back, ever!",
            "It's a total game changer!", "I literally can't stop using it!", "No regrets at all!",
            "I tell everyone about it!", "It's my new must-have!", "I'm hooked, completely hooked!",
            "It's so, so good!", "Obsessed is an understatement!",
            "Everyone needs this in their life!", "I genuinely can't stop talking about it!",
            "It's the best part of my day now!"),
        "proof_home": ("It lives in {home} now!",),
        "reaction": ("Love that!", "Huge!", "That's a big win!", "So good!", "Such a big deal!",
                     "Amazing, right?", "Yes, please!", "I'm here for it!",
                     "That's my favorite part, for real!"),
        "cta_lead": (
            "You need this!", "Don't wait on this one!", "Seriously, go get it!",
            "Trust me on this!", "Run, don't walk!", "This is your sign!", "You won't regret it!",
            "Seriously, you're going to love it!", "You'll thank me for this one!"),
        "cta_default": ("Grab yours now!", "Tap the link and grab yours!"),
        "tiny": ("So good!", "Obsessed!", "Yes!", "Wow!", "Love it!", "No joke!", "For real!",
                 "Big win!", "Every day!", "Unreal!", "Game changer!", "Let's go!"),
        "tiny_problem": ("Nothing worked!", "So frustrating!", "Such a letdown!", "Sound familiar?",
                         "Every time!", "Not again!", "Ugh!", "Total waste!"),
        "generic_items": (
            "it just works", "it's so easy", "it fits any routine", "you'll actually use it",
            "it feels amazing", "it's fun to use", "it makes life easier",
            "you'll never look back"),
    },
    "professional": {
        "hook": (
            "Here is something worth your attention.", "A quick recommendation.",
            "If you value quality, this is worth a look.",
            "Let me share something I have been using.",
            "This one deserves a closer look.", "I want to share a recent find.",
            "A brief review, from personal experience."),
        "hook_named": (
            "Let me introduce {product}.",
            "{product} deserves a closer look.", "I want to tell you about {product}.",
            "If you value quality, consider {product}.", "A quick word about {product}.",
            "{product} has earned a place in my routine.",
            "I have been using {product}, and it stands out."),
        "hook_short": ("Introducing {product}.", "Meet {product}."),
        "hook_place": ("I am recording this from {place} to share a recent find.",
                       "A quick recommendation from {place}."),
        "hook_named_place": ("A quick word about {product}, from {place}.",),
        "hook_list": (
            "{Count} {reasons} to consider {product}.", "{Count} {reasons} {product} stands out.",
            "{product}: {count} {things} worth knowing.", "Here is why I recommend {product}.",
            "Why {product} has earned my recommendation."),
        "hook_more": (
            "It is worth a minute of your time.", "I do not recommend things lightly.",
            "Here is what I have found.", "Let me explain why.",
            "I have been testing it for a while."),
        "problem": (
            "Finding a product that genuinely delivers is harder than it should be.",
            "Many options promise a great deal and deliver very little.",
            "I had tried several alternatives without much success.",
            "It is easy to spend money on things that do not last.",
            "Most products in this space feel interchangeable.",
            "I was looking for something reliable and simple.", "Too many products overpromise.",
            "Quality has been hard to find.", "It is hard to know what is worth buying."),
        "agitate": (
            "That costs time, money, and patience.",
            "Each disappointment makes the next purchase harder.", "It is a frustrating cycle.",
            "Over time, those compromises add up.", "You should not have to settle.",
            "It is a common problem.", "And the search starts all over again."),
        "solution": (
            "{product} is a different story.", "That is where {product} comes in.",
            "Then I tried {product}.", "{product} addresses that directly.",
            "{product} changed my expectations.", "I then came across {product}.",
            "{product} offers a better approach."),
        "solution_more": (
            "It is simple, reliable, and easy to use.", "It fits easily into a daily routine.",
            "It does exactly what it sets out to do.", "The difference is clear.",
            "It takes the guesswork out of the process.", "It has been consistently reliable.",
            "It is a straightforward solution.", "Everything about it feels considered."),
        "proof": (
            "I have used it daily, and it has been consistent.",
            "It has earned a permanent place in my routine.",
            "I would recommend it without hesitation.",
            "It is one of the better purchases I have made.", "The quality is evident.",
            "It has met my expectations and then some.", "I continue to reach for it every day.",
            "It is a thoughtful, well-made product.", "I have been genuinely impressed.",
            "It is easy to see why people recommend it.",
            "It has become a reliable part of my day.",
            "It delivers on its promise."),
        "proof_home": ("It now has a permanent spot in {home}.",),
        "reaction": (
            "That makes a meaningful difference.", "That detail matters.",
            "It is a genuine advantage.", "That was an important factor for me.",
            "It is a thoughtful touch.", "I value that."),
        "cta_lead": (
            "It is well worth a closer look.", "I recommend giving it a try.",
            "Consider adding it to your routine.", "It is worth considering.",
            "See the details for yourself.", "You will not be disappointed."),
        "cta_default": ("Visit the link to learn more.", "Tap the link below to learn more.",
                        "Learn more below."),
        "tiny": ("Truly.", "Worth noting.", "Highly recommended.", "Well made.", "Reliable.",
                 "Consistent.", "Simple.", "Impressive.", "Thoughtful design.", "Quality shows.",
                 "Recommended.", "Very dependable."),
        "tiny_problem": ("Nothing delivered.", "A common frustration.", "Hardly ideal.",
                         "Sound familiar?", "A poor trade.", "Too little value.",
                         "Not sustainable.",
                         "An old problem."),
        "generic_items": (
            "it is straightforward to use", "it fits easily into my routine",
            "it does what it promises", "it is thoughtfully put together",
            "it is consistently reliable", "it simplifies the routine", "it is a pleasure to use",
            "it is easy to recommend"),
    },
}

# Per tone and point kind: (phrasings for a script's first point, extra ones for later points).
# "noun" points also take the "fragment" phrasings, which suit any noun-like phrase.
POINT_FORMS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "conversational": {
        "adj": (("It's {p}, which I love.", "I love that it's {p}.",
                 "It's {p}, which is a big deal for me."),
                ("Plus, it's {p}.", "And it's {p}, too.", "Oh, and it's {p}.")),
        "noun": (("The {p}? That's what got me.", "I'm obsessed with the {p}.",
                  "Honestly, the {p} alone sold me."),
                 ("And the {p}? Love that.", "Plus, you get the {p}.")),
        "fragment": (("{P}, which is huge.", "{P}, which I love.", "{P}, and I'm here for it."),
                     ("Plus, {p}.", "And {p}, which I love.", "Oh, and {p}.")),
        "verb": (("I love that it {p}.", "It {p}, which is huge.", "It actually {p}."),
                 ("Plus, it {p}.", "And it {p}, which I love.", "Oh, and it {p}.")),
        "sentence": (("{S}",), ()),
    },
    "energetic": {
        "adj": (("It's {p}!", "Yes, it's {p}!"), ("Plus, it's {p}!", "And it's {p}!")),
        "noun": (("The {p}? Unreal!", "You get {p}!"), ("And the {p}? Wow!",)),
        "fragment": (("{P}!", "{P}, let's go!"), ("Plus, {p}!", "And {p}!", "Oh, and {p}!")),
        "verb": (("It {p}!", "It actually {p}!"), ("Plus, it {p}!", "And it {p}!")),
        "sentence": (("{S}",), ()),
    },
    "professional": {
        "adj": (("It is {p}.", "Notably, it is {p}.", "I appreciate that it is {p}."),
                ("It is also {p}.", "In addition, it is {p}.")),
        "noun": (("I particularly value the {p}.", "One standout is the {p}.", "It offers {p}."),
                 ("I also appreciate the {p}.", "It also offers {p}.")),
        "fragment": (("One highlight: {p}.", "Worth noting: {p}.", "A key benefit: {p}."),
                     ("Another highlight: {p}.", "Also worth noting: {p}.")),
        "verb": (("It {p}.", "Importantly, it {p}.", "I appreciate that it {p}."),
                 ("It also {p}.", "In addition, it {p}.")),
        "sentence": (("{S}",), ()),
    },
}

# List items of a listicle: phrasings for the first, a middle and the last item.
LIST_FORMS: dict[str, dict[str, tuple[str, ...]]] = {
    "conversational": {
        "first": ("Number one: {c}.", "First up: {c}.", "Okay, number one: {c}."),
        "middle": ("Number {n}: {c}.", "And number {n}: {c}.", "Okay, number {n}: {c}."),
        "last": ("And finally, {c}.", "Last one: {c}."),
    },
    "energetic": {
        "first": ("One: {c}!", "Number one: {c}!", "Reason one: {c}!"),
        "middle": ("{N}: {c}!", "Number {n}: {c}!", "Reason {n}: {c}!"),
        "last": ("And {n}: {c}!", "Last but not least, {c}!"),
    },
    "professional": {
        "first": ("First, {c}.", "To start, {c}."),
        "middle": ("{Ordinal}, {c}.", "Next, {c}."),
        "last": ("Finally, {c}.", "And {ordinal}, {c}."),
    },
}

TERMINAL = {"conversational": ".", "energetic": "!", "professional": "."}

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth", "eleventh", "twelfth")
