"""Interface words in the languages masthead speaks, in one place.

Feeds and article pages (credits line, "read more") and digests (greeting,
footer, unsubscribe) take their words from here. A language without its own
entry, or a word it lacks, falls back to English.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        # feeds and article pages
        "source": "Source", "photo": "Photo", "more": "Read the full article", "sep": " · ",
        # digests
        "view_in_browser": "View this email in your browser", "greeting": "Hello", "comma": ",",
        "intro": "Here is what we published in", "read_more": "Read the full story", "by": "By",
        "more_on_site": "More from this period on the site", "more_count": "more stories",
        "sent_to": "This email was sent to", "why": "because you subscribed to",
        "unsubscribe": "Unsubscribe", "unsubscribe_text": "To unsubscribe with one click",
        "web_note": "Web copy of the newsletter", "items": "Stories",
    },
    "ar": {
        "source": "المصدر", "photo": "الصورة", "more": "اقرأ المقال كاملًا", "sep": "، ",
        "view_in_browser": "عرض الرسالة في المتصفح", "greeting": "مرحباً", "comma": "،",
        "intro": "هذه أبرز الأخبار المنشورة في", "read_more": "اقرأ الخبر كاملاً", "by": "بقلم",
        "more_on_site": "المزيد من أخبار هذه الفترة على الموقع", "more_count": "أخبار أخرى",
        "sent_to": "وصلتك هذه الرسالة على العنوان", "why": "لأنك مشترك في نشرة",
        "unsubscribe": "إلغاء الاشتراك", "unsubscribe_text": "لإلغاء الاشتراك بنقرة واحدة",
        "web_note": "نسخة الويب من النشرة", "items": "عدد الأخبار",
    },
    "fa": {"source": "منبع", "photo": "عکس", "more": "خواندن کامل مقاله", "sep": "، "},
}


def words_for(language: str) -> dict[str, str]:
    """The interface words for a language tag such as ``ar`` or ``en-GB`` (its primary subtag)."""
    own = WORDS.get(language.split("-")[0].lower(), {})
    return {**WORDS["en"], **own}
