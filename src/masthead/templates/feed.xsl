<?xml version="1.0" encoding="UTF-8"?>
<!--
  masthead's feed stylesheet: a browser that opens rss.xml or atom.xml shows this
  readable page instead of raw XML. Feed readers ignore it. The page takes the
  feed's own language and direction (right-to-left for ar, fa, ur, he, ...), and
  each entry its own when the feed says so (Atom xml:lang, RSS dc:language).
  Copy it to templates/feed.xsl in a publication to change it.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
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
  <xsl:variable name="self" select="string((/rss/channel/atom:link[@rel='self'] | /atom:feed/atom:link[@rel='self'])[1]/@href)"/>

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
        <title><xsl:value-of select="$title"/></title>
        <style>
          body { font-family: Tahoma, Arial, "Segoe UI", "Geeza Pro", sans-serif; line-height: 1.7;
                 max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; background: #fff; }
          .notice { background: #fff8d6; border: 1px solid #e6d48a; border-radius: 6px; padding: .8rem 1rem; }
          .notice code { direction: ltr; unicode-bidi: embed; background: #fff; padding: 0 .3rem; word-break: break-all; }
          h1 { margin-bottom: .2rem; }
          ol { list-style: none; padding: 0; }
          li { border-bottom: 1px solid #eee; padding: .8rem 0; }
          li a { font-size: 1.15rem; font-weight: bold; color: #0b5394; text-decoration: none; }
          time { color: #666; font-size: .9rem; display: block; }
          p.summary { margin: .3rem 0 0; }
        </style>
      </head>
      <body>
        <div class="notice">
          <xsl:choose>
            <xsl:when test="$primary = 'ar'">
              <strong>هذا موجز أخبار (RSS / Atom).</strong>
              للاشتراك انسخ هذا العنوان في قارئ الموجزات: <code><xsl:value-of select="$self"/></code>
            </xsl:when>
            <xsl:otherwise>
              <strong>This is a news feed (RSS / Atom).</strong>
              To subscribe, copy this address into your feed reader: <code><xsl:value-of select="$self"/></code>
            </xsl:otherwise>
          </xsl:choose>
        </div>
        <h1><a href="{$site}"><xsl:value-of select="$title"/></a></h1>
        <p><xsl:value-of select="$about"/></p>
        <ol>
          <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
        </ol>
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
    <li lang="{$item-lang}" dir="{$item-dir}">
      <a href="{string((link | atom:link[@rel='alternate']/@href)[1])}">
        <xsl:value-of select="(title | atom:title)[1]"/>
      </a>
      <time>
        <xsl:choose>
          <xsl:when test="atom:published"><xsl:value-of select="substring(atom:published, 1, 10)"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="substring(pubDate, 6, 11)"/></xsl:otherwise>
        </xsl:choose>
      </time>
      <p class="summary"><xsl:value-of select="(description | atom:summary)[1]"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
