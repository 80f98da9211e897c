<?xml version="1.0" encoding="UTF-8"?>
<!--
  masthead's feed stylesheet: a browser that opens rss.xml or atom.xml shows this
  readable page instead of raw XML. Feed readers ignore it. The page takes the
  feed's own language and direction (right-to-left for ar, fa, ur, he, ...), and
  each entry its own when the feed says so (Atom xml:lang, RSS dc:language).
  It links the pages' stylesheet, site.css, found beside this file (the address
  is taken from the feed's own xml-stylesheet instruction), so the feed looks
  like the rest of the site. Its words come from masthead's interface words
  (one branch per language), filled in when the job writes output/feed.xsl:
  it is a Jinja template. Copy it to templates/feed.xsl in a publication to
  change it.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
{#- A page word in the feed's language: one branch per language masthead has words for. #}
{%- macro say(key) %}
<xsl:choose>
{%- for language in languages if language.code != "en" %}
<xsl:when test="$primary = '{{ language.code }}'">{{ language.words[key] }}</xsl:when>
{%- endfor %}
<xsl:otherwise>{{ english.words[key] }}</xsl:otherwise>
</xsl:choose>
{%- endmacro %}
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="lang" select="string((/rss/channel/language | /atom:feed/@xml:lang)[1])"/>
  <xsl:variable name="primary">
    <xsl:call-template name="primary"><xsl:with-param name="lang" select="$lang"/></xsl:call-template>
  </xsl:variable>
  <xsl:variable name="dir">
    <xsl:call-template name="dir"><xsl:with-param name="lang" select="$lang"/></xsl:call-template>
  </xsl:variable>
  <xsl:variable name="title" select="string((/rss/channel/title | /atom:feed/atom:title)[1])"/>
  <xsl:variable name="site" select="string((/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href)[1])"/>
  <xsl:variable name="about" select="string((/rss/channel/description | /atom:feed/atom:subtitle)[1])"/>
  <xsl:variable name="xsl-href" select="substring-before(substring-after(/processing-instruction('xml-stylesheet'), 'href=&quot;'), '&quot;')"/>
  <xsl:variable name="css">
    <xsl:choose>
      <xsl:when test="contains($xsl-href, 'feed.xsl')"><xsl:value-of select="concat(substring-before($xsl-href, 'feed.xsl'), 'site.css')"/></xsl:when>
      <xsl:otherwise>/site.css</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="self" select="string((/rss/channel/atom:link[@rel='self'] | /atom:feed/atom:link[@rel='self'])[1]/@href)"/>
  <!-- An archive page (RFC 5005) is no address to subscribe to: its 'current' link is. -->
  <xsl:variable name="current" select="string((/rss/channel/atom:link[@rel='current'] | /atom:feed/atom:link[@rel='current'])[1]/@href)"/>
  <xsl:variable name="address">
    <xsl:choose>
      <xsl:when test="$current != ''"><xsl:value-of select="$current"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$self"/></xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template name="primary">
    <xsl:param name="lang"/>
    <xsl:value-of select="substring-before(concat(translate($lang, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_', 'abcdefghijklmnopqrstuvwxyz-'), '-'), '-')"/>
  </xsl:template>

  <xsl:template name="dir">
    <xsl:param name="lang"/>
    <xsl:variable name="p">
      <xsl:call-template name="primary"><xsl:with-param name="lang" select="$lang"/></xsl:call-template>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="contains(' ar fa ur he ps ckb yi dv sd ug ', concat(' ', $p, ' '))">rtl</xsl:when>
      <xsl:otherwise>ltr</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="/">
    <html lang="{$lang}" dir="{$dir}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/></title>
        <link rel="stylesheet" href="{$css}"/>
      </head>
      <body>
        <main class="page feed-view">
          <div class="notice">
            <p><strong>{{ say("feed_view") }}</strong></p>
            <p>{{ say("feed_view_copy") }} <code><xsl:value-of select="$address"/></code></p>
          </div>
          <header class="page-head">
            <h1><xsl:value-of select="$title"/></h1>
            <xsl:if test="$about != '' and $about != $title">
              <p class="description"><xsl:value-of select="$about"/></p>
            </xsl:if>
            <xsl:if test="$site != ''">
              <p class="actions">
                <a class="button" href="{$site}">
                  {{ say("on_site") }}
                </a>
              </p>
            </xsl:if>
          </header>
          <section class="latest" aria-labelledby="latest-title">
            <h2 id="latest-title">
              {{ say("latest") }}
            </h2>
            <ol class="entries">
              <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
            </ol>
          </section>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item | atom:entry">
    <xsl:variable name="entry-lang" select="string((dc:language | @xml:lang)[1])"/>
    <xsl:variable name="item-lang">
      <xsl:choose>
        <xsl:when test="$entry-lang != ''"><xsl:value-of select="$entry-lang"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$lang"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="item-dir">
      <xsl:call-template name="dir"><xsl:with-param name="lang" select="$item-lang"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="when" select="string((atom:published | atom:updated | pubDate)[1])"/>
    <xsl:variable name="summary" select="string((description | atom:summary)[1])"/>
    <li lang="{$item-lang}" dir="{$item-dir}">
      <h3>
        <a href="{string((link | atom:link[@rel='alternate']/@href)[1])}">
          <xsl:value-of select="(title | atom:title)[1]"/>
        </a>
      </h3>
      <xsl:if test="$when != ''">
        <p class="meta">
          <xsl:call-template name="day">
            <xsl:with-param name="when" select="$when"/>
            <xsl:with-param name="lang" select="$item-lang"/>
          </xsl:call-template>
        </p>
      </xsl:if>
      <xsl:if test="$summary != ''">
        <p class="summary"><xsl:value-of select="$summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>

  <!-- A <time> that people read as "6 May 2022" or "6 مايو 2022", from Atom's 2022-05-06T...
       (the datetime as it is) or RSS's "Fri, 06 May 2022 12:00:00 +0300" (the day it names). -->
  <xsl:template name="day">
    <xsl:param name="when"/>
    <xsl:param name="lang"/>
    <xsl:variable name="p">
      <xsl:call-template name="primary"><xsl:with-param name="lang" select="$lang"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="rfc822" select="normalize-space(substring-after($when, ','))"/>
    <xsl:variable name="day">
      <xsl:choose>
        <xsl:when test="$rfc822 != ''"><xsl:value-of select="number(substring-before($rfc822, ' '))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="number(substring($when, 9, 2))"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="month">
      <xsl:choose>
        <xsl:when test="$rfc822 != ''">
          <xsl:value-of select="string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec',
                                substring(substring-after($rfc822, ' '), 1, 3))) div 3 + 1"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="number(substring($when, 6, 2))"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="year">
      <xsl:choose>
        <xsl:when test="$rfc822 != ''"><xsl:value-of select="substring(substring-after(substring-after($rfc822, ' '), ' '), 1, 4)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="substring($when, 1, 4)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="names">
      <xsl:choose>
{%- for language in languages if language.code != "en" %}
        <xsl:when test="$p = '{{ language.code }}'">{{ language.months | join("/") }}/</xsl:when>
{%- endfor %}
        <xsl:otherwise>{{ english.months | join("/") }}/</xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="string($day) != 'NaN' and $month &gt;= 1 and $month &lt;= 12">
        <xsl:variable name="iso">
          <xsl:choose>
            <xsl:when test="$rfc822 != ''">
              <xsl:value-of select="concat($year, '-', format-number($month, '00'), '-', format-number($day, '00'))"/>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$when"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <time datetime="{$iso}">
          <xsl:value-of select="concat($day, ' ')"/>
          <xsl:call-template name="nth">
            <xsl:with-param name="list" select="$names"/>
            <xsl:with-param name="n" select="$month"/>
          </xsl:call-template>
          <xsl:value-of select="concat(' ', $year)"/>
        </time>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$when"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The nth item of a list written "a/b/c/". -->
  <xsl:template name="nth">
    <xsl:param name="list"/>
    <xsl:param name="n"/>
    <xsl:choose>
      <xsl:when test="$n &lt;= 1"><xsl:value-of select="substring-before($list, '/')"/></xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="nth">
          <xsl:with-param name="list" select="substring-after($list, '/')"/>
          <xsl:with-param name="n" select="$n - 1"/>
        </xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
